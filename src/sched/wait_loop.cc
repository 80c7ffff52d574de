#include "sched/wait_loop.h"

#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pipeline {

namespace {

void Drain(int fd) {
  char buf[4096];
  while (read(fd, buf, sizeof buf) > 0) {
  }
}

}  // namespace

int BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return -1;
  return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

Waiter::~Waiter() {
  if (inotify_ >= 0) close(inotify_);
  if (sigfd_ >= 0) close(sigfd_);
}

bool Waiter::CatchStopSignals() {
  if (sigfd_ < 0) sigfd_ = BlockStopSignals();
  return sigfd_ >= 0;
}

bool Waiter::WatchStore(const std::string& root) {
  if (inotify_ >= 0) return true;
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return false;
  if (inotify_add_watch(fd, root.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
    close(fd);
    return false;
  }
  inotify_ = fd;
  return true;
}

Result<Wakeup> Waiter::Wait(Launcher* launcher, Micros timeout) {
  Wakeup w;
  std::vector<pollfd> fds;
  fds.reserve(8);
  int sig_at = -1, ino_at = -1;
  if (sigfd_ >= 0) {
    sig_at = static_cast<int>(fds.size());
    fds.push_back({sigfd_, POLLIN, 0});
  }
  if (inotify_ >= 0) {
    ino_at = static_cast<int>(fds.size());
    fds.push_back({inotify_, POLLIN, 0});
  }
  size_t first_run = fds.size();
  std::vector<Launcher::Watch> watches;
  if (launcher) watches = launcher->Watches();
  for (const auto& wa : watches) fds.push_back({wa.fd, POLLIN, 0});
  int timeout_ms = static_cast<int>(std::clamp<Micros>((timeout + 999) / 1000, 0, 3'600'000));
  int n = poll(fds.data(), fds.size(), timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return w;
    return IOError(std::string("poll: ") + strerror(errno));
  }
  if (n == 0) {
    w.timeout = true;
    return w;
  }
  if (sig_at >= 0 && fds[sig_at].revents) {
    Drain(sigfd_);
    w.stop = true;
  }
  if (ino_at >= 0 && fds[ino_at].revents) {
    Drain(inotify_);
    w.store = true;
  }
  for (size_t i = first_run; i < fds.size(); ++i) {
    if (!fds[i].revents) continue;
    const std::string& id = watches[i - first_run].run_id;
    w.ended.push_back(id);
    launcher->OnReadable(id);
  }
  return w;
}

}  // namespace pipeline
