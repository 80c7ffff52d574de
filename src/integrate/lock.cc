#include "integrate/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "util/text.h"

namespace pipeline {

std::string IntegrateLockPath(const RootPaths& paths, const std::string& base) {
  return paths.root + "/integrate-" + Slug(base) + ".lock";
}

std::string IntegrateJournalPath(const RootPaths& paths, const std::string& base) {
  return paths.root + "/integrate-" + Slug(base) + ".journal.json";
}

std::string IntegrateScratchPath(const RootPaths& paths, const std::string& base) {
  return paths.worktrees_dir() + "/_integrate-" + Slug(base);
}

Result<std::optional<IntegrateLock>> IntegrateLock::Acquire(const std::string& path, int64_t wait_ms) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return IOError("cannot open " + path + ": " + strerror(errno));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) {
      int e = errno;
      close(fd);
      return IOError("cannot lock " + path + ": " + strerror(e));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      close(fd);
      return std::optional<IntegrateLock>();
    }
    // Integrations take seconds to minutes; a coarse poll costs nothing.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::optional<IntegrateLock>(IntegrateLock(fd));
}

IntegrateLock& IntegrateLock::operator=(IntegrateLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

IntegrateLock::~IntegrateLock() {
  if (fd_ >= 0) close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace pipeline
