// One scheduler per store: an exclusive POSIX record lock (fcntl F_SETLK) on
// .pipeline/scheduler.lock, held for the life of the process. The kernel
// drops it when the process dies, even by kill -9, so a stale lock cannot
// block a restart. A record lock belongs to the process, not to the open
// file: unlike flock, a child being spawned at the moment the scheduler is
// killed (between its clone and its exec, which closes the descriptor) does
// not keep it. The file holds the holder's pid, for the refusal message.
// One lock per process: a second Acquire in the same process is refused too
// (record locks do not conflict within a process).
#pragma once

#include <string>

#include "store/root.h"
#include "util/status.h"

namespace pipeline {

class SchedulerLock {
 public:
  // kRefused naming the holder's pid when another process holds the lock.
  static Result<SchedulerLock> Acquire(const RootPaths& paths);
  SchedulerLock(SchedulerLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  SchedulerLock& operator=(SchedulerLock&&) = delete;
  SchedulerLock(const SchedulerLock&) = delete;
  ~SchedulerLock();

 private:
  explicit SchedulerLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace pipeline
