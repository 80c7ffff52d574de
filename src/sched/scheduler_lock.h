// One scheduler per store: an exclusive flock on .pipeline/scheduler.lock,
// held for the life of the process (the kernel drops it when the process
// dies, even by kill -9, so a stale lock cannot block a restart). The file
// holds the holder's pid, for the refusal message.
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
