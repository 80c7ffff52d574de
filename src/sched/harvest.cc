// Harvest: acting on runs that ended. Each run is harvested in one
// transaction (marked, settled, commented, its task moved on), and the mark
// is a compare-and-set, so a run is never acted on twice.
#include <nlohmann/json.hpp>

#include "agent/run_store.h"
#include "git/paths.h"
#include "sched/launcher.h"
#include "sched/scheduler.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline {

namespace {

constexpr size_t kFeedbackBytes = 4096;

std::string RunComment(const RunRecord& run) {
  std::string s = "Pipeline scheduler: run=" + run.run_id + " domain=" + run.domain.value_or("") +
                  " status=" + RunStatusName(run.status) +
                  " cost=" + std::to_string(CentsForSettlement(run.cost_cents)) + "c";
  if (run.error && !run.error->empty()) s += " error=" + SingleLine(TruncateUtf8(*run.error, 400));
  return s;
}

std::string LogTail(const RunRecord& run, size_t bytes) {
  std::string out, err;
  if (!run.stdout_path.empty()) out = ReadFile(run.stdout_path).ok() ? *ReadFile(run.stdout_path) : "";
  if (!run.stderr_path.empty()) err = ReadFile(run.stderr_path).ok() ? *ReadFile(run.stderr_path) : "";
  std::string both = TailUtf8(out, bytes);
  if (!err.empty()) both += (both.empty() ? "" : "\n") + std::string("[stderr]\n") + TailUtf8(err, bytes);
  return TailUtf8(both, bytes);
}

bool Restartable(const RunRecord& run) {
  return run.error && (*run.error == "never started" || *run.error == "monitor died");
}

// The cluster, not the run, failed (NODE_FAIL, PREEMPTED): run it again
// without counting the attempt.
bool LostByCluster(const RunRecord& run) { return run.error && IsClusterInfrastructureError(*run.error); }

}  // namespace

Status Scheduler::Harvest(StepResult* r) {
  PL_ASSIGN_OR_RETURN(auto ids, UnharvestedEndedRuns(db_));
  for (const auto& id : ids) {
    Status s = HarvestOne(id, r);
    if (!s.ok()) {
      Emit("error", std::nullopt, id, "harvest failed: " + s.message());
      if (s.kind() == ErrorKind::kIO) return s;  // the store is failing: stop the step
    }
  }
  return Status::Ok();
}

Status Scheduler::HarvestOne(const std::string& run_id, StepResult* r) {
  PL_ASSIGN_OR_RETURN(RunRecord run, GetRun(db_, run_id));
  if (!run.task_id) {
    // Not a task's run: settle it and move on.
    if (dry_) return Status::Ok();
    Status s = db_.Write([&]() -> Status {
      PL_ASSIGN_OR_RETURN(bool mine, MarkHarvested(db_, run_id, clock_.Now()));
      if (!mine) return Status::Ok();
      auto settled = ledger_.Settle(run_id, CentsForSettlement(run.cost_cents));
      if (!settled.ok() && settled.kind() != ErrorKind::kNotFound) return settled.error();
      return Status::Ok();
    });
    Untrack(run_id);
    return s;
  }
  ++r->harvested;
  if (run.phase == "verify") return HarvestVerify(run, r);
  if (run.phase == "integrate") return HarvestIntegrate(run, r);
  return HarvestDev(run, r);
}

Result<bool> Scheduler::HasNewCommit(const RunRecord& run) {
  const bool moved = run.head_before && run.head_after && *run.head_before != *run.head_after;
  if (options_.shared_workspace || !repo_) return moved;
  // The patchset is what the run produced wherever the agent put its
  // commits: a branch of its own (or a detached HEAD) that continues the
  // task branch is taken onto it; anything else refuses the run (kRefused).
  if (!dry_) {
    auto taken = repo_->TakeRunCommits(WorkspaceFor(*run.task_id), *run.task_id, base_);
    if (!taken.ok() && taken.kind() == ErrorKind::kRefused) return taken.error();
    if (!taken.ok()) Emit("error", run.task_id, run.run_id, "taking the run's commits: " + taken.message());
    if (taken.ok() && !taken->empty()) Emit("adopt-commits", run.task_id, run.run_id, *taken);
  }
  if (moved) return true;
  auto ahead = repo_->CommitsAhead(*run.task_id, base_);
  if (!ahead.ok()) return false;  // no branch: nothing was committed
  return *ahead > 0;
}

std::string Scheduler::VerifyWorkspaceFor(const std::string& task_id) const {
  if (options_.shared_workspace) return WorkspaceFor(task_id);
  auto p = VerifyCheckoutPath(paths_, task_id);
  return p.ok() ? *p : std::string();
}

void Scheduler::LaunchVerify(const std::string& run_id, const std::string& task_id, const std::string& domain) {
  if (!options_.shared_workspace && repo_) {
    // The check runs in a checkout of its own holding exactly the task
    // branch's commit (reset and `clean -fdx`ed each time): what it builds
    // never reaches the agent's workspace, where a `git add -A` would commit
    // it, and uncommitted edits there cannot make a commit pass.
    Status checked_out = repo_->CheckoutTaskCommit(task_id, VerifyWorkspaceFor(task_id));
    if (!checked_out.ok()) {
      (void)FailStart(run_id, task_id, "verify", "verify checkout: " + checked_out.message());
      return;
    }
  }
  LaunchRecorded(run_id, task_id, domain, "verify");
}

Status Scheduler::HarvestDev(const RunRecord& run, StepResult*) {
  const std::string& task_id = *run.task_id;
  std::string domain = run.domain.value_or("");
  PL_ASSIGN_OR_RETURN(auto task, TaskCountersOf(db_, task_id));
  DevRunFacts f;
  f.status = run.status;
  f.never_started = Restartable(run) && !run.started_at;
  f.lost_by_cluster = LostByCluster(run);
  if (f.lost_by_cluster) {
    Stmt& q = db_.Cached("SELECT COUNT(*) FROM runs WHERE task_id = ? AND phase = 'dev' AND error LIKE 'cluster: %'");
    q.BindAll(task_id);
    PL_ASSIGN_OR_RETURN(bool row, q.Step());
    f.cluster_losses = row ? q.Int(0) : 1;
    q.Reset();  // ends the statement's read before the harvest's transaction
  }
  f.retries = task ? task->retries : 0;
  f.now = clock_.Now();
  f.error = run.error.value_or("");
  std::string refused;  // why the run's commits cannot be its patchset
  if (options_.after_run == AfterRun::kVerify &&
      (run.status == RunStatus::kDone || run.status == RunStatus::kNeedsInput)) {
    auto has = HasNewCommit(run);
    if (!has.ok() && has.kind() != ErrorKind::kRefused) return has.error();
    if (!has.ok()) refused = has.message();
    f.has_commit = has.ok() && *has;
  }
  PL_ASSIGN_OR_RETURN(f.task_cost_cents, TaskCostCents(db_, task_id));
  Decision d = refused.empty() ? DecideAfterDev(options_, f)
                               : DecideFailure(options_, f.retries, f.task_cost_cents, f.now, refused);
  std::string what = std::string(NextStepName(d.next)) + ": " + d.reason;
  if (dry_) {
    Emit("would-harvest", task_id, run.run_id,
         std::string("run ") + RunStatusName(run.status) + " cost=" +
             std::to_string(CentsForSettlement(run.cost_cents)) + "c -> " + what);
    return Status::Ok();
  }
  std::optional<std::string> verify_id;
  bool left = false;
  Status s = db_.Write([&]() -> Status {
    Micros now = clock_.Now();
    PL_ASSIGN_OR_RETURN(bool mine, MarkHarvested(db_, run.run_id, now));
    if (!mine) return Status::Ok();
    if (d.next == NextStep::kRetryUncounted && f.never_started) {
      Status rel = ledger_.Release(run.run_id);
      if (!rel.ok() && rel.kind() != ErrorKind::kNotFound) return rel;
    } else {
      auto settled = ledger_.Settle(run.run_id, CentsForSettlement(run.cost_cents));
      if (!settled.ok() && settled.kind() != ErrorKind::kNotFound) return settled.error();
    }
    budget_refused_.erase(domain);
    if (!task) return AddEvent(db_, now, task_id, run.run_id, "harvest", "task no longer exists");
    PL_RETURN_IF_ERROR(Comment(task_id, RunComment(run)));
    PL_ASSIGN_OR_RETURN(auto status, TaskStatusOf(db_, task_id));
    if (status != TaskStatus::kInProgress) {
      left = true;
      PL_RETURN_IF_ERROR(Comment(task_id, "Pipeline scheduler: task was moved to " + TaskStatusText(status, "?") +
                                              " while run " + run.run_id + " was out; leaving it there"));
      return AddEvent(db_, now, task_id, run.run_id, "left", "task is " + TaskStatusText(status, "?"));
    }
    switch (d.next) {
      case NextStep::kVerify: {
        if (!options_.branch_check && !options_.review_required) {
          // The merge queue checks every change on the merge result before
          // the base moves: the branch's own check would only repeat it.
          PL_RETURN_IF_ERROR(Promote(task_id, "merge-check-only"));
          break;
        }
        PL_ASSIGN_OR_RETURN(verify_id, RecordVerifyRun(task_id, domain, task->patchset));
        if (!verify_id) PL_RETURN_IF_ERROR(Promote(task_id, "skipped"));
        break;
      }
      case NextStep::kReview:
        PL_RETURN_IF_ERROR(MoveTask(db_, task_id, TaskStatus::kInProgress, TaskStatus::kReview, now).status());
        PL_RETURN_IF_ERROR(Comment(task_id, "Pipeline: run " + run.run_id + " finished, ready for review"));
        break;
      case NextStep::kRetryUncounted:
        PL_RETURN_IF_ERROR(MoveTask(db_, task_id, TaskStatus::kInProgress, TaskStatus::kOpen, now).status());
        PL_RETURN_IF_ERROR(Comment(task_id, "Pipeline scheduler: run " + run.run_id +
                                                (f.never_started ? " never started" : " was lost by the cluster (" +
                                                                                          run.error.value_or("") + ")") +
                                                "; re-opening without counting a retry"));
        break;
      default:
        PL_RETURN_IF_ERROR(ApplyFailure(task_id, d, run.run_id));
        break;
    }
    return AddEvent(db_, now, task_id, run.run_id, "harvest", what);
  });
  Untrack(run.run_id);
  PL_RETURN_IF_ERROR(s);
  Emit("harvest", task_id, run.run_id, left ? "task moved meanwhile; left as is" : what);
  if (verify_id) LaunchVerify(*verify_id, task_id, domain);
  return Status::Ok();
}

Status Scheduler::ApplyFailure(const std::string& task_id, const Decision& d, const std::string& run_id) {
  Micros now = clock_.Now();
  PL_RETURN_IF_ERROR(AddEvent(db_, now, task_id, run_id, "failure", std::string(NextStepName(d.next)) + ": " + d.reason));
  if (d.next == NextStep::kNeedsHelp) {
    PL_ASSIGN_OR_RETURN(bool moved, MoveTaskForRetry(db_, task_id, TaskStatus::kInProgress, TaskStatus::kNeedsHelp, d.retries, 0, now));
    if (moved) PL_RETURN_IF_ERROR(Comment(task_id, "Pipeline: " + d.reason + " (run=" + run_id + "); needs help"));
    return Status::Ok();
  }
  PL_ASSIGN_OR_RETURN(bool moved,
                      MoveTaskForRetry(db_, task_id, TaskStatus::kInProgress, TaskStatus::kOpen, d.retries, d.not_before, now));
  if (moved) {
    if (d.not_before > now) NoteWake(d.not_before);
    PL_RETURN_IF_ERROR(Comment(task_id, "Pipeline: " + d.reason + " (run=" + run_id + ")"));
  }
  return Status::Ok();
}

Status Scheduler::Promote(const std::string& task_id, const std::string& how) {
  Micros now = clock_.Now();
  TaskStatus to = options_.review_required ? TaskStatus::kReview : TaskStatus::kVerified;
  PL_ASSIGN_OR_RETURN(bool moved, MoveTask(db_, task_id, TaskStatus::kInProgress, to, now));
  if (!moved) return Status::Ok();
  std::string text = how == "skipped" ? std::string("Pipeline: verification skipped (no verify command configured), promoting to ") + TaskStatusName(to)
                     : how == "merge-check-only"
                         ? std::string("Pipeline: the branch is not checked on its own (integrate.branch_check = never; the merge queue checks the merge result), promoting to ") +
                               TaskStatusName(to)
                         : std::string("Pipeline: build verification passed, promoting to ") + TaskStatusName(to);
  return Comment(task_id, text);
}

Status Scheduler::Reject(const std::string& task_id, TaskStatus from, const std::string& feedback,
                         const std::string& comment) {
  Micros now = clock_.Now();
  PL_ASSIGN_OR_RETURN(RejectOutcome out,
                      RejectPatchset(db_, task_id, from, {feedback, comment, "system", options_.max_patchsets}, now));
  if (!out.moved) return Status::Ok();
  if (out.needs_help) return AddEvent(db_, now, task_id, std::nullopt, "failure", "patchset limit reached");
  // Below the patchset cap: the same back-off as a failed run (a hopeless
  // check is not re-run at once), or needs-help past the task's cost cap.
  PL_ASSIGN_OR_RETURN(double cost, TaskCostCents(db_, task_id));
  Decision d = DecideReject(options_, out.patchset, cost, now);
  if (d.next == NextStep::kReject) {
    if (d.not_before > now) {
      PL_RETURN_IF_ERROR(
          MoveTaskForRetry(db_, task_id, TaskStatus::kOpen, TaskStatus::kOpen, 0, d.not_before, now).status());
      NoteWake(d.not_before);
    }
    return Status::Ok();
  }
  PL_RETURN_IF_ERROR(MoveTask(db_, task_id, TaskStatus::kOpen, TaskStatus::kNeedsHelp, now).status());
  PL_RETURN_IF_ERROR(AddEvent(db_, now, task_id, std::nullopt, "failure", d.reason));
  return Comment(task_id, "Pipeline: " + d.reason + "; needs help");
}

Status Scheduler::HarvestVerify(const RunRecord& run, StepResult*) {
  const std::string& task_id = *run.task_id;
  std::string domain = run.domain.value_or("");
  bool restart = (Restartable(run) && !run.started_at) || LostByCluster(run);
  bool pass = (run.status == RunStatus::kDone || run.status == RunStatus::kNeedsInput) &&
              run.exit_code.value_or(1) == 0;
  std::string tail = (restart || pass) ? "" : LogTail(run, kFeedbackBytes);
  if (dry_) {
    Emit("would-harvest", task_id, run.run_id,
         restart ? "verify never started -> verify again" : pass ? "verify passed -> promote" : "verify failed -> reopen");
    return Status::Ok();
  }
  std::optional<std::string> again;
  Status s = db_.Write([&]() -> Status {
    Micros now = clock_.Now();
    PL_ASSIGN_OR_RETURN(bool mine, MarkHarvested(db_, run.run_id, now));
    if (!mine) return Status::Ok();
    PL_ASSIGN_OR_RETURN(auto status, TaskStatusOf(db_, task_id));
    if (status != TaskStatus::kInProgress) {
      if (status) PL_RETURN_IF_ERROR(Comment(task_id, "Pipeline scheduler: task was moved to " + TaskStatusText(status, "?") +
                                                          " during verification; leaving it there"));
      return AddEvent(db_, now, task_id, run.run_id, "left", "task is " + TaskStatusText(status, "gone"));
    }
    if (restart) {
      PL_ASSIGN_OR_RETURN(again, RecordVerifyRun(task_id, domain, run.patchset));
      if (!again) return Promote(task_id, "skipped");
      return AddEvent(db_, now, task_id, run.run_id, "verify-restart", "verify never started; running it again");
    }
    if (pass) {
      PL_RETURN_IF_ERROR(Promote(task_id, "passed"));
      return AddEvent(db_, now, task_id, run.run_id, "verify-pass", "verification passed");
    }
    std::string why = std::string("verification ") + RunStatusName(run.status) +
                      (run.error ? ": " + SingleLine(TruncateUtf8(*run.error, 200)) : "");
    // The run's error already quotes the start of its stderr, which the tail
    // holds in full: the agent is shown the output once.
    std::string feedback = tail.empty() ? why
                                        : std::string("verification ") + RunStatusName(run.status) +
                                              (run.exit_code ? " (exit code " + std::to_string(*run.exit_code) + ")" : "") +
                                              ":\n" + tail;
    PL_RETURN_IF_ERROR(Reject(task_id, TaskStatus::kInProgress, feedback,
                              "Pipeline: " + why + " (run=" + run.run_id + "), re-opening as a new patchset:\n" +
                                  TailUtf8(tail, 1000)));
    return AddEvent(db_, now, task_id, run.run_id, "failure", why);
  });
  Untrack(run.run_id);
  PL_RETURN_IF_ERROR(s);
  Emit("harvest", task_id, run.run_id, restart ? "verify again" : pass ? "verify passed" : "verify failed");
  if (again) LaunchVerify(*again, task_id, domain);
  return Status::Ok();
}

Status Scheduler::ReopenAnswered(StepResult* r) {
  PL_ASSIGN_OR_RETURN(auto ids, AnsweredNeedsHelp(db_));
  for (const auto& id : ids) {
    if (dry_) {
      Emit("would-reopen", id, std::nullopt, "human responded");
      continue;
    }
    PL_RETURN_IF_ERROR(db_.Write([&]() -> Status {
      Micros now = clock_.Now();
      PL_ASSIGN_OR_RETURN(bool moved, MoveTaskForRetry(db_, id, TaskStatus::kNeedsHelp, TaskStatus::kOpen, 0, 0, now));
      if (!moved) return Status::Ok();
      ++r->reopened;
      PL_RETURN_IF_ERROR(Comment(id, "Pipeline: human responded, re-opening for dev"));
      return AddEvent(db_, now, id, std::nullopt, "reopen", "human responded");
    }));
    Emit("reopen", id, std::nullopt, "human responded");
  }
  return Status::Ok();
}

}  // namespace pipeline
