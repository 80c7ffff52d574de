#include "slurm/result_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pipeline::slurm {

ResultWatch::ResultWatch() : fd_(inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {}

ResultWatch::~ResultWatch() {
  if (fd_ >= 0) close(fd_);
}

bool ResultWatch::Add(const std::string& run_id, const std::string& dir) {
  if (fd_ < 0) return false;
  Remove(run_id);
  int wd = inotify_add_watch(fd_, dir.c_str(), IN_MOVED_TO | IN_ONLYDIR);
  if (wd < 0) return false;
  watched_[run_id] = wd;
  return true;
}

void ResultWatch::Remove(const std::string& run_id) {
  auto it = watched_.find(run_id);
  if (it == watched_.end()) return;
  int wd = it->second;
  watched_.erase(it);
  // Two runs never share a directory, but a descriptor the kernel reuses
  // for another watch must not be removed under it.
  for (const auto& [id, other] : watched_)
    if (other == wd) return;
  (void)inotify_rm_watch(fd_, wd);  // fails harmlessly once the directory is gone
}

bool ResultWatch::Drain() {
  if (fd_ < 0) return false;
  bool result = false;
  alignas(struct inotify_event) char buf[16384];
  while (true) {
    ssize_t n = read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<struct inotify_event*>(p);
      if (ev->len > 0 && std::strcmp(ev->name, "result.json") == 0) result = true;
      p += sizeof(struct inotify_event) + ev->len;
    }
  }
  return result;
}

}  // namespace pipeline::slurm
