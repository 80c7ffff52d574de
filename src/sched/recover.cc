// Start-up after a clean exit or a crash (kill -9 at any instruction): make
// the store and the disk agree again before the first step.
#include "agent/run_store.h"
#include "git/paths.h"
#include "sched/scheduler.h"

namespace pipeline {

Status Scheduler::Recover() {
  if (!options_.shared_workspace) {
    repo_ = env_.repo;
    if (!repo_) {
      own_repo_ = MakeGitTaskRepo(*env_.runner, paths_);
      repo_ = own_repo_.get();
    }
    base_ = options_.base;
    if (base_.empty()) {
      auto cur = repo_->CurrentBranch();
      if (!cur.ok())
        return InvalidArgument("cannot tell the base branch (" + cur.message() + "): pass --base BRANCH");
      base_ = *cur;
    }
  } else {
    base_ = options_.base;
  }
  Micros now = clock_.Now();
  // Runs whose worker is gone (or never got one) are failed first, so only
  // live ones are adopted.
  if (!dry_) PL_RETURN_IF_ERROR(launcher_->Reconcile(true));
  // Adopt the live runs: their workers outlived the previous scheduler.
  PL_ASSIGN_OR_RETURN(auto live, ListRuns(db_, /*active_only=*/true));
  for (const auto& run : live) {
    if (run.run_id.rfind(kSchedulerRunPrefix, 0) != 0 || !run.task_id) continue;
    Track(run.run_id, *run.task_id, run.domain.value_or(""), run.phase);
    if (!dry_) launcher_->Adopt(run);
    Emit("adopt", run.task_id, run.run_id, run.phase + " run still running");
  }
  // Claims without a run: the scheduler died between its transactions.
  std::vector<std::string> orphans;
  {
    Stmt& s = db_.Cached(
        "SELECT id FROM tasks t WHERE t.status = 'in-progress' AND NOT EXISTS "
        "(SELECT 1 FROM runs r WHERE r.task_id = t.id AND r.harvested_at IS NULL)");
    while (true) {
      PL_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      orphans.push_back(s.Text(0));
    }
    s.Reset();
  }
  for (const auto& id : orphans) {
    if (dry_) {
      Emit("would-reopen", id, std::nullopt, "in progress without a run");
      continue;
    }
    PL_RETURN_IF_ERROR(db_.Write([&]() -> Status {
      PL_ASSIGN_OR_RETURN(bool moved, MoveTask(db_, id, "in-progress", "open", now));
      if (!moved) return Status::Ok();
      PL_RETURN_IF_ERROR(tasks_.AddComment(
          id, "Pipeline scheduler: recovered an in-progress task with no live run, re-opening", "system").status());
      return AddEvent(db_, now, id, std::nullopt, "recover", "in-progress without a run: re-opened");
    }));
    Emit("recover", id, std::nullopt, "re-opened: in progress without a run");
  }
  // Worktrees of finished or unknown tasks.
  if (repo_) {
    auto listed = repo_->ListTaskWorktrees();
    if (!listed.ok()) Emit("error", std::nullopt, std::nullopt, "listing worktrees: " + listed.message());
    std::vector<std::string> wts = listed.ok() ? *listed : std::vector<std::string>();
    for (const auto& id : wts) {
      PL_ASSIGN_OR_RETURN(auto status, TaskStatusOf(db_, id));
      if (status && *status != "done") continue;
      if (dry_) {
        Emit("would-remove-worktree", id, std::nullopt, status ? "task is done" : "unknown task");
        continue;
      }
      Status rm = repo_->RemoveWorktree(id);
      Emit(rm.ok() ? "recover" : "error", id, std::nullopt,
           rm.ok() ? "removed the worktree of a " + std::string(status ? "done" : "unknown") + " task"
                   : "removing a worktree: " + rm.message());
    }
  }
  PL_ASSIGN_OR_RETURN(auto wake, NextBackoffEnd(db_, now));
  if (wake) NoteWake(*wake);
  return Status::Ok();
}

}  // namespace pipeline
