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

#include <sys/types.h>

#include <optional>
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

// The pid of the process holding the lock (a running scheduler), or nullopt
// when none does. Read-only: opens the lock file without creating it. The
// kernel does not report a lock held by the calling process itself.
std::optional<pid_t> SchedulerLockHolder(const RootPaths& paths);

}  // namespace pipeline
