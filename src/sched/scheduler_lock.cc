#include "sched/scheduler_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/text.h"

namespace pipeline {

Result<SchedulerLock> SchedulerLock::Acquire(const RootPaths& paths) {
  std::string path = paths.scheduler_lock();
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return IOError("cannot open " + path + ": " + strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    if (err != EWOULDBLOCK) return IOError("cannot lock " + path + ": " + strerror(err));
    std::string pid = n > 0 ? Trim(std::string(buf, static_cast<size_t>(n))) : "?";
    return Refused("another scheduler (pid " + pid + ") is already running on this store (" + paths.root + ")");
  }
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    close(fd);
    return IOError("cannot write " + path + ": " + strerror(errno));
  }
  return SchedulerLock(fd);
}

SchedulerLock::~SchedulerLock() {
  if (fd_ >= 0) close(fd_);  // releases the flock; the file stays (its pid is stale, harmlessly)
}

}  // namespace pipeline
