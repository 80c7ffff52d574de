#include "sched/scheduler.h"

#include "agent/run_store.h"
#include "git/paths.h"
#include "sched/local_launcher.h"
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
  launcher_ = env_.launcher;
  if (!launcher_) {
    own_launcher_ = std::make_unique<LocalLauncher>(db_, paths_, clock_, env_.self_exe);
    launcher_ = own_launcher_.get();
  }
}

Scheduler::~Scheduler() = default;

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
                      const std::string& phase) {
  if (active_.count(run_id)) return;
  active_[run_id] = ActiveRun{run_id, task_id, domain, phase};
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
  launcher_->Forget(run_id);
  ActiveRun& a = it->second;
  if (a.phase == "dev") {
    if (--dev_by_domain_[a.domain] <= 0) dev_by_domain_.erase(a.domain);
    --dev_total_;
  } else if (a.phase == "integrate") {
    --integrating_;
  }
  active_.erase(it);
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
  // Runs whose worker vanished get their end recorded, to be harvested below.
  if (!dry_) PL_RETURN_IF_ERROR(launcher_->Reconcile(!active_.empty()));
  PL_RETURN_IF_ERROR(Harvest(&r));
  PL_RETURN_IF_ERROR(ReopenAnswered(&r));
  if (options_.after_run == AfterRun::kVerify) PL_RETURN_IF_ERROR(FeedIntegration(&r));
  PL_RETURN_IF_ERROR(StartCandidates(&r));
  Micros now = clock_.Now();
  bool fired = false;
  for (; !wakes_.empty() && *wakes_.begin() <= now; fired = true) wakes_.erase(wakes_.begin());
  // After a restart only the earliest back-off is known (Recover): when a
  // timer fires, look up the next one, or a later back-off would wait for
  // the fallback poll (and --until-idle would exit before it).
  if (fired) {
    PL_ASSIGN_OR_RETURN(auto wake, NextBackoffEnd(db_, now));
    if (wake) NoteWake(*wake);
  }
  if (!wakes_.empty()) r.next_wake = *wakes_.begin();
  r.active = static_cast<int>(active_.size());
  return r;
}

}  // namespace pipeline
