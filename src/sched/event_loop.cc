#include "sched/event_loop.h"

#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "util/clock.h"

namespace pipeline {

int BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return -1;
  return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

namespace {

void Drain(int fd) {
  char buf[4096];
  while (read(fd, buf, sizeof buf) > 0) {
  }
}

}  // namespace

Status RunLoop(Scheduler& sched, Db& db, const RootPaths& paths, const LoopOptions& o,
               const std::function<void(const StepResult&)>& after_step,
               const std::function<void(const Status&)>& on_error) {
  int sigfd = BlockStopSignals();
  int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ino >= 0 && inotify_add_watch(ino, paths.root.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
    close(ino);
    ino = -1;  // no watch: fall back to the poll interval
  }
  Status result;
  int64_t seen_version = db.DataVersion();
  bool step_now = true;
  Micros last_step = 0;
  const Micros fallback = static_cast<Micros>(o.fallback_poll_s * 1e6);
  std::optional<Micros> next_wake;
  constexpr int kMaxFailedSteps = 5;
  int failed_steps = 0;
  while (true) {
    if (step_now) {
      auto r = sched.Step();
      last_step = SystemClock().MonotonicNow();
      if (!r.ok()) {
        // A failing step (the store busy beyond its timeout, git failing)
        // must not end the scheduler: retry shortly, give up only when it
        // keeps failing.
        if (++failed_steps >= kMaxFailedSteps) {
          result = r.status();
          break;
        }
        if (on_error) on_error(r.status());
        usleep(200'000);
        continue;
      }
      failed_steps = 0;
      seen_version = db.DataVersion();
      next_wake = r->next_wake;
      if (after_step) after_step(*r);
      if (o.until_idle && r->active == 0 && r->started == 0 && r->harvested == 0 && r->reopened == 0 &&
          !r->more && !next_wake)
        break;
      // Something happened: step again at once, since its effects (a freed
      // slot, a reopened task) may allow more work.
      step_now = r->harvested > 0 || r->started > 0 || r->reopened > 0;
      if (step_now) continue;
    }
    // How long to sleep: the next timer, the fallback poll, or a short poll
    // when a watched run has no pidfd (an adopted monitor we cannot watch).
    Micros now_mono = SystemClock().MonotonicNow();
    Micros wait = fallback - (now_mono - last_step);
    if (next_wake) wait = std::min(wait, *next_wake - SystemClock().Now());
    for (const auto& [id, a] : sched.active())
      if (a.pidfd < 0) wait = std::min<Micros>(wait, 200'000);
    if (wait <= 0) {
      step_now = true;
      continue;
    }
    std::vector<pollfd> fds;
    std::vector<std::string> ids;
    if (sigfd >= 0) fds.push_back({sigfd, POLLIN, 0});
    if (ino >= 0) fds.push_back({ino, POLLIN, 0});
    size_t first_run = fds.size();
    for (const auto& [id, a] : sched.active()) {
      if (a.pidfd < 0) continue;
      fds.push_back({a.pidfd, POLLIN, 0});
      ids.push_back(id);
    }
    int timeout_ms = static_cast<int>(std::min<Micros>((wait + 999) / 1000, 3'600'000));
    int n = poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      result = IOError(std::string("poll: ") + strerror(errno));
      break;
    }
    if (n == 0) {
      step_now = true;  // a timer is due
      continue;
    }
    size_t k = 0;
    if (sigfd >= 0) {
      if (fds[k].revents) break;  // SIGINT/SIGTERM: leave the runs to their monitors
      ++k;
    }
    if (ino >= 0) {
      if (fds[k].revents) {
        Drain(ino);
        if (db.DataVersion() != seen_version) step_now = true;
      }
      ++k;
    }
    for (size_t i = first_run; i < fds.size(); ++i)
      if (fds[i].revents) {
        sched.OnMonitorExit(ids[i - first_run]);
        step_now = true;
      }
  }
  if (ino >= 0) close(ino);
  if (sigfd >= 0) close(sigfd);
  return result;
}

}  // namespace pipeline
