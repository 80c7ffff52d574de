#include "sched/scheduler_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/text.h"

namespace pipeline {

namespace {
bool g_held = false;  // this process holds a SchedulerLock
}  // namespace

Result<SchedulerLock> SchedulerLock::Acquire(const RootPaths& paths) {
  std::string path = paths.scheduler_lock();
  if (g_held) return Refused("another scheduler (pid " + std::to_string(getpid()) + ") is already running in this process");
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return IOError("cannot open " + path + ": " + strerror(errno));
  struct flock whole = {};
  whole.l_type = F_WRLCK;
  whole.l_whence = SEEK_SET;
  if (fcntl(fd, F_SETLK, &whole) != 0) {
    int err = errno;
    // The holder as the kernel knows it; the file's pid if that fails.
    struct flock probe = {};
    probe.l_type = F_WRLCK;
    probe.l_whence = SEEK_SET;
    std::string pid;
    if (fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK) pid = std::to_string(probe.l_pid);
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    if (err != EAGAIN && err != EACCES) return IOError("cannot lock " + path + ": " + strerror(err));
    if (pid.empty()) pid = n > 0 ? Trim(std::string(buf, static_cast<size_t>(n))) : "?";
    return Refused("another scheduler (pid " + pid + ") is already running on this store (" + paths.root + ")");
  }
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    close(fd);
    return IOError("cannot write " + path + ": " + strerror(errno));
  }
  g_held = true;
  return SchedulerLock(fd);
}

std::optional<pid_t> SchedulerLockHolder(const RootPaths& paths) {
  int fd = open(paths.scheduler_lock().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct flock probe = {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  std::optional<pid_t> holder;
  if (fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK) holder = probe.l_pid;
  close(fd);
  return holder;
}

SchedulerLock::~SchedulerLock() {
  if (fd_ < 0) return;
  close(fd_);  // releases the record lock; the file stays (its pid is stale, harmlessly)
  g_held = false;
}

}  // namespace pipeline
