#include "sched/local_launcher.h"

#include <sys/wait.h>
#include <unistd.h>

#include "agent/launcher.h"
#include "agent/run_store.h"
#include "proc/process.h"

namespace pipeline {

LocalLauncher::LocalLauncher(Db& db, RootPaths paths, Clock& clock, std::string self_exe)
    : db_(db), paths_(std::move(paths)), clock_(clock), self_exe_(std::move(self_exe)) {}

LocalLauncher::~LocalLauncher() {
  for (auto& [id, m] : monitors_)
    if (m.pidfd >= 0) close(m.pidfd);
}

Status LocalLauncher::Launch(const LaunchRequest& run) {
  // Started without waiting for its handshake (agent/launcher.h does that
  // for `agent run`): starts do not queue behind each other's start-up, and
  // the pidfd tells us when it is over. A monitor that exits before claiming
  // its run is noticed in Reconcile.
  SpawnOptions o;
  o.argv = MonitorArgv(self_exe_, paths_, run.run_id);
  o.new_session = true;  // no terminal, no process group of ours: it outlives us
  o.stdout_mode = SpawnOptions::Out::kNull;
  o.stderr_mode = SpawnOptions::Out::kNull;
  auto spawned = Spawn(o);
  if (!spawned.ok()) return Unavailable("monitor: " + spawned.message());
  Forget(run.run_id);
  monitors_[run.run_id] = Monitor{spawned->pid, true, PidfdOpen(spawned->pid)};
  return Status::Ok();
}

void LocalLauncher::Adopt(const RunRecord& run) {
  if (monitors_.count(run.run_id)) return;
  pid_t pid = run.monitor_pid;
  monitors_[run.run_id] = Monitor{pid, false, pid > 0 ? PidfdOpen(pid) : -1};
}

void LocalLauncher::Forget(const std::string& run_id) {
  auto it = monitors_.find(run_id);
  if (it == monitors_.end()) return;
  Monitor& m = it->second;
  if (m.pidfd >= 0) close(m.pidfd);
  // The monitor writes its final row just before it exits: reap it now, or
  // on a later Reconcile if it has not exited yet.
  if (m.our_child && m.pid > 0 && waitpid(m.pid, nullptr, WNOHANG) == 0) zombies_.push_back(m.pid);
  monitors_.erase(it);
}

void LocalLauncher::OnReadable(const std::string& run_id) {
  auto it = monitors_.find(run_id);
  if (it == monitors_.end()) return;
  Monitor& m = it->second;
  if (m.pidfd >= 0) close(m.pidfd);
  m.pidfd = -1;
  // Reap our child now: a zombie still counts as alive to ReapDeadMonitors,
  // which must see a monitor that died before writing its row as dead.
  if (m.our_child && m.pid > 0 && waitpid(m.pid, nullptr, WNOHANG) == m.pid) m.our_child = false;
  monitor_exited_ = true;
  exited_.push_back(run_id);
}

Status LocalLauncher::Reconcile(bool watching) {
  for (auto it = zombies_.begin(); it != zombies_.end();)
    it = waitpid(*it, nullptr, WNOHANG) != 0 ? zombies_.erase(it) : it + 1;
  // A monitor that exited without claiming its run (it could not start):
  // fail the row now rather than waiting for the never-started timeout.
  for (const auto& id : exited_) {
    auto run = GetRun(db_, id);
    if (run.ok() && run->status == RunStatus::kStarting && run->monitor_pid == 0)
      (void)FailRun(db_, id, "the monitor exited before starting the agent", clock_.Now());
  }
  exited_.clear();
  if (watching) {
    PL_RETURN_IF_ERROR(FailUnclaimedRuns(db_, clock_.Now(), kClaimGrace));
    // Adopted runs whose monitor had not claimed them yet: watch the monitor now.
    for (auto& [id, m] : monitors_) {
      if (m.pid != 0 || m.our_child) continue;
      auto run = GetRun(db_, id);
      if (run.ok() && run->monitor_pid > 0) {
        m.pid = run->monitor_pid;
        m.pidfd = PidfdOpen(m.pid);
      }
    }
  }
  if (monitor_exited_ || watching) {
    monitor_exited_ = false;
    PL_RETURN_IF_ERROR(ReapDeadMonitors(db_, clock_).status());
  }
  return Status::Ok();
}

std::vector<Launcher::Watch> LocalLauncher::Watches() const {
  std::vector<Watch> out;
  out.reserve(monitors_.size());
  for (const auto& [id, m] : monitors_)
    if (m.pidfd >= 0) out.push_back(Watch{m.pidfd, id});
  return out;
}

std::optional<Micros> LocalLauncher::PollEvery() const {
  // An adopted monitor we cannot watch (no pidfd yet, or pidfd_open failed):
  // look at its row often.
  for (const auto& [id, m] : monitors_)
    if (m.pidfd < 0) return 200'000;
  return std::nullopt;
}

Status LocalLauncher::Kill(const std::string& run_id) { return RequestKill(db_, paths_, run_id); }

void LocalLauncher::Detach(Micros timeout) {
  Micros deadline = clock_.MonotonicNow() + timeout;
  for (const auto& [id, m] : monitors_) {
    if (!m.our_child) continue;
    while (clock_.MonotonicNow() < deadline) {
      auto run = GetRun(db_, id);
      if (!run.ok() || run->monitor_pid != 0 || IsTerminal(run->status)) break;
      if (waitpid(m.pid, nullptr, WNOHANG) == m.pid) break;
      usleep(2000);
    }
  }
}

}  // namespace pipeline
