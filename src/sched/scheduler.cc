#include "sched/scheduler.h"

#include <sys/wait.h>
#include <unistd.h>

#include "agent/run_store.h"
#include "git/paths.h"
#include "sched/run_id.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline {

Scheduler::Scheduler(SchedulerOptions options, Db& db, RootPaths paths, Clock& clock, SchedulerEnv env)
    : options_(std::move(options)),
      db_(db),
      paths_(std::move(paths)),
      clock_(clock),
      env_(std::move(env)),
      tasks_(db, clock),
      ledger_(db, clock, env_.default_budget_cents),
      dry_(options_.dry_run) {
  if (env_.self_exe.empty()) env_.self_exe = SelfExePath();
  if (!env_.runner) env_.runner = &RealProcessRunner();
}

Scheduler::~Scheduler() {
  for (auto& [id, a] : active_)
    if (a.pidfd >= 0) close(a.pidfd);
}

void Scheduler::Emit(const std::string& kind, const std::optional<std::string>& task_id,
                     const std::optional<std::string>& run_id, const std::string& detail) {
  if (env_.on_event) env_.on_event(SchedEvent{clock_.Now(), kind, task_id, run_id, detail});
}

Status Scheduler::Comment(const std::string& task_id, const std::string& text) {
  return tasks_.AddComment(task_id, text, "system").status();
}

std::string Scheduler::NewRunId(const std::string& kind_or_domain, const std::string& task_id) {
  return UniqueRunId(kind_or_domain, task_id, clock_.Now() / 1'000'000, [&](const std::string& id) {
    Stmt& s = db_.Cached("SELECT 1 FROM runs WHERE run_id = ?");
    s.BindAll(id);
    auto row = s.Step();
    bool taken = !row.ok() || *row;  // on error, treat as taken and try the next
    s.Reset();
    return taken;
  });
}

std::string Scheduler::WorkspaceFor(const std::string& task_id) const {
  if (options_.shared_workspace) return paths_.repo();
  auto p = TaskWorktreePath(paths_, task_id);
  return p.ok() ? *p : std::string();
}

int Scheduler::DevActive(const std::string& domain) const {
  auto it = dev_by_domain_.find(domain);
  return it == dev_by_domain_.end() ? 0 : it->second;
}

void Scheduler::NoteWake(Micros at) { wakes_.insert(at); }

void Scheduler::Track(const std::string& run_id, const std::string& task_id, const std::string& domain,
                      const std::string& phase, pid_t pid, bool child) {
  if (active_.count(run_id)) return;
  ActiveRun a{run_id, task_id, domain, phase, pid, child, pid > 0 ? PidfdOpen(pid) : -1};
  active_[run_id] = a;
  if (phase == "dev") {
    ++dev_by_domain_[domain];
    ++dev_total_;
  } else if (phase == "integrate") {
    ++integrating_;
  }
}

void Scheduler::Untrack(const std::string& run_id) {
  auto it = active_.find(run_id);
  if (it == active_.end()) return;
  ActiveRun& a = it->second;
  if (a.pidfd >= 0) close(a.pidfd);
  if (a.our_child && a.monitor_pid > 0) {
    // The monitor writes its final row just before it exits: reap it now, or
    // on a later step if it has not exited yet.
    if (waitpid(a.monitor_pid, nullptr, WNOHANG) == 0) zombies_.push_back(a.monitor_pid);
  }
  if (a.phase == "dev") {
    if (--dev_by_domain_[a.domain] <= 0) dev_by_domain_.erase(a.domain);
    --dev_total_;
  } else if (a.phase == "integrate") {
    --integrating_;
  }
  active_.erase(it);
}

void Scheduler::OnMonitorExit(const std::string& run_id) {
  auto it = active_.find(run_id);
  if (it == active_.end()) return;
  ActiveRun& a = it->second;
  if (a.pidfd >= 0) close(a.pidfd);
  a.pidfd = -1;
  // Reap our child now: a zombie still counts as alive to ReapDeadMonitors,
  // which must see a monitor that died before writing its row as dead.
  if (a.our_child && a.monitor_pid > 0 && waitpid(a.monitor_pid, nullptr, WNOHANG) == a.monitor_pid)
    a.our_child = false;
  monitor_exited_ = true;
  exited_.push_back(run_id);
}

Status Scheduler::FailUnclaimedRuns() {
  return db_.Write([&]() -> Status {
    Micros now = clock_.Now();
    Stmt& s = db_.Cached(
        "UPDATE runs SET status = 'failed', error = 'never started', ended_at = ? "
        "WHERE status = 'starting' AND monitor_pid IS NULL AND created_at < ? "
        "AND substr(run_id, 1, 9) = 'pipeline-'");
    s.BindAll(now, now - kClaimGrace);
    return s.Run();
  });
}

void Scheduler::WaitForClaims(Micros timeout) {
  Micros deadline = SystemClock().MonotonicNow() + timeout;
  for (const auto& [id, a] : active_) {
    if (!a.our_child) continue;
    while (SystemClock().MonotonicNow() < deadline) {
      auto run = GetRun(db_, id);
      if (!run.ok() || run->monitor_pid != 0 || IsTerminal(run->status)) break;
      if (waitpid(a.monitor_pid, nullptr, WNOHANG) == a.monitor_pid) break;
      usleep(2000);
    }
  }
}

Result<StepResult> Scheduler::Step() {
  StepResult r;
  // A commit by another process (a grant, a new task) may change what the
  // budget allows: forget this step's refusals.
  int64_t dv = db_.DataVersion();
  if (dv != data_version_) {
    data_version_ = dv;
    budget_refused_.clear();
  }
  for (auto it = zombies_.begin(); it != zombies_.end();)
    it = waitpid(*it, nullptr, WNOHANG) != 0 ? zombies_.erase(it) : it + 1;
  if (!dry_) {
    // A monitor that exited without claiming its run (it could not start):
    // fail the row now rather than waiting for the never-started timeout.
    for (const auto& id : exited_) {
      auto run = GetRun(db_, id);
      if (run.ok() && run->status == RunStatus::kStarting && run->monitor_pid == 0)
        (void)FailRun(db_, id, "the monitor exited before starting the agent", clock_.Now());
    }
  }
  exited_.clear();
  if (!dry_ && !active_.empty()) {
    PL_RETURN_IF_ERROR(FailUnclaimedRuns());
    // Adopted runs whose monitor had not claimed them yet: watch the monitor now.
    for (auto& [id, a] : active_) {
      if (a.monitor_pid != 0 || a.our_child) continue;
      auto run = GetRun(db_, id);
      if (run.ok() && run->monitor_pid > 0) {
        a.monitor_pid = run->monitor_pid;
        a.pidfd = PidfdOpen(a.monitor_pid);
      }
    }
  }
  if (!dry_ && (monitor_exited_ || !active_.empty())) {
    monitor_exited_ = false;
    PL_RETURN_IF_ERROR(ReapDeadMonitors(db_, clock_).status());
  }
  PL_RETURN_IF_ERROR(Harvest(&r));
  PL_RETURN_IF_ERROR(ReopenAnswered(&r));
  if (options_.after_run == AfterRun::kVerify) PL_RETURN_IF_ERROR(FeedIntegration(&r));
  PL_RETURN_IF_ERROR(StartCandidates(&r));
  Micros now = clock_.Now();
  while (!wakes_.empty() && *wakes_.begin() <= now) wakes_.erase(wakes_.begin());
  if (!wakes_.empty()) r.next_wake = *wakes_.begin();
  r.active = static_cast<int>(active_.size());
  return r;
}

}  // namespace pipeline
