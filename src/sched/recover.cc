// Start-up after a clean exit or a crash (kill -9 at any instruction): make
// the store and the disk agree again before the first step.
#include "agent/run_store.h"
#include "git/paths.h"
#include "sched/scheduler.h"

namespace pipeline {

Status Scheduler::Recover() {
  if (!options_.shared_workspace) {
    git_ = std::make_unique<Git>(*env_.runner, paths_.repo());
    base_ = options_.base;
    if (base_.empty()) {
      auto cur = git_->CurrentBranch();
      if (!cur.ok())
        return InvalidArgument("cannot tell the base branch (" + cur.message() + "): pass --base BRANCH");
      base_ = *cur;
    }
  } else {
    base_ = options_.base;
  }
  Micros now = clock_.Now();
  if (!dry_) {
    PL_RETURN_IF_ERROR(FailUnclaimedRuns());
    PL_RETURN_IF_ERROR(ReapDeadMonitors(db_, clock_).status());
  }
  // Adopt the live runs: their monitors outlived the previous scheduler.
  PL_ASSIGN_OR_RETURN(auto live, ListRuns(db_, /*active_only=*/true));
  for (const auto& run : live) {
    if (run.run_id.rfind(kSchedulerRunPrefix, 0) != 0 || !run.task_id) continue;
    Track(run.run_id, *run.task_id, run.domain.value_or(""), run.phase, run.monitor_pid, false);
    Emit("adopt", run.task_id, run.run_id, run.phase + " run still running");
  }
  // Claims without a run: the scheduler died between its transactions.
  PL_ASSIGN_OR_RETURN(std::vector<std::string> orphans, InProgressWithoutRun(db_));
  for (const auto& id : orphans) {
    if (dry_) {
      Emit("would-reopen", id, std::nullopt, "in progress without a run");
      continue;
    }
    PL_RETURN_IF_ERROR(db_.Write([&]() -> Status {
      PL_ASSIGN_OR_RETURN(bool moved, MoveTask(db_, id, TaskStatus::kInProgress, TaskStatus::kOpen, now));
      if (!moved) return Status::Ok();
      PL_RETURN_IF_ERROR(tasks_.AddComment(
          id, "Pipeline scheduler: recovered an in-progress task with no live run, re-opening", "system").status());
      return AddEvent(db_, now, id, std::nullopt, "recover", "in-progress without a run: re-opened");
    }));
    Emit("recover", id, std::nullopt, "re-opened: in progress without a run");
  }
  // Worktrees of finished or unknown tasks.
  if (git_) {
    auto listed = git_->ListTaskWorktrees(paths_);
    if (!listed.ok()) Emit("error", std::nullopt, std::nullopt, "listing worktrees: " + listed.message());
    std::vector<std::string> wts = listed.ok() ? *listed : std::vector<std::string>();
    for (const auto& id : wts) {
      PL_ASSIGN_OR_RETURN(auto status, TaskStatusOf(db_, id));
      if (status && *status != TaskStatus::kDone) continue;
      if (dry_) {
        Emit("would-remove-worktree", id, std::nullopt, status ? "task is done" : "unknown task");
        continue;
      }
      Status rm = git_->RemoveWorktree(paths_, id, /*delete_branch=*/true);
      Emit(rm.ok() ? "recover" : "error", id, std::nullopt,
           rm.ok() ? "removed the worktree of a " + TaskStatusText(status, "unknown") + " task"
                   : "removing a worktree: " + rm.message());
    }
  }
  PL_ASSIGN_OR_RETURN(auto wake, NextBackoffEnd(db_, now));
  if (wake) NoteWake(*wake);
  return Status::Ok();
}

}  // namespace pipeline
