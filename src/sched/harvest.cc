// Harvest: acting on runs that ended. Each run is harvested in one
// transaction (marked, settled, commented, its task moved on), and the mark
// is a compare-and-set, so a run is never acted on twice.
#include <nlohmann/json.hpp>

#include "agent/run_store.h"
#include "git/paths.h"
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

struct TaskRow {
  std::string status;
  int64_t retries = 0, patchset = 0;
};

Result<std::optional<TaskRow>> LoadTaskRow(Db& db, const std::string& id) {
  Stmt& s = db.Cached("SELECT status, retries, patchset FROM tasks WHERE id = ?");
  s.BindAll(id);
  PL_ASSIGN_OR_RETURN(bool row, s.Step());
  std::optional<TaskRow> out;
  if (row) out = TaskRow{s.Text(0), s.Int(1), s.Int(2)};
  s.Reset();
  return out;
}

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
  if (run.head_before && run.head_after && *run.head_before != *run.head_after) return true;
  if (options_.shared_workspace || !git_) return false;
  PL_ASSIGN_OR_RETURN(std::string branch, TaskBranch(*run.task_id));
  auto ahead = git_->CommitsAhead(branch, base_);
  if (!ahead.ok()) return false;  // no branch: nothing was committed
  return *ahead > 0;
}

Status Scheduler::HarvestDev(const RunRecord& run, StepResult*) {
  const std::string& task_id = *run.task_id;
  std::string domain = run.domain.value_or("");
  PL_ASSIGN_OR_RETURN(auto task, LoadTaskRow(db_, task_id));
  DevRunFacts f;
  f.status = run.status;
  f.never_started = Restartable(run) && !run.started_at;
  f.retries = task ? task->retries : 0;
  f.now = clock_.Now();
  if (options_.after_run == AfterRun::kVerify &&
      (run.status == RunStatus::kDone || run.status == RunStatus::kNeedsInput)) {
    PL_ASSIGN_OR_RETURN(f.has_commit, HasNewCommit(run));
  }
  PL_ASSIGN_OR_RETURN(f.task_cost_cents, TaskCostCents(db_, task_id));
  Decision d = DecideAfterDev(options_, f);
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
    if (d.next == NextStep::kRetryUncounted) {
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
    if (status != std::optional<std::string>("in-progress")) {
      left = true;
      PL_RETURN_IF_ERROR(Comment(task_id, "Pipeline scheduler: task was moved to " + status.value_or("?") +
                                              " while run " + run.run_id + " was out; leaving it there"));
      return AddEvent(db_, now, task_id, run.run_id, "left", "task is " + status.value_or("?"));
    }
    switch (d.next) {
      case NextStep::kVerify: {
        PL_ASSIGN_OR_RETURN(verify_id, RecordVerifyRun(task_id, domain, task->patchset));
        if (!verify_id) PL_RETURN_IF_ERROR(Promote(task_id, "skipped"));
        break;
      }
      case NextStep::kReview:
        PL_RETURN_IF_ERROR(MoveTask(db_, task_id, "in-progress", "review", now).status());
        PL_RETURN_IF_ERROR(Comment(task_id, "Pipeline: run " + run.run_id + " finished, ready for review"));
        break;
      case NextStep::kRetryUncounted:
        PL_RETURN_IF_ERROR(MoveTask(db_, task_id, "in-progress", "open", now).status());
        PL_RETURN_IF_ERROR(Comment(task_id, "Pipeline scheduler: run " + run.run_id +
                                                " never started; re-opening without counting a retry"));
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
  if (verify_id) LaunchRecorded(*verify_id, task_id, domain, "verify");
  return Status::Ok();
}

Status Scheduler::ApplyFailure(const std::string& task_id, const Decision& d, const std::string& run_id) {
  Micros now = clock_.Now();
  PL_RETURN_IF_ERROR(AddEvent(db_, now, task_id, run_id, "failure", std::string(NextStepName(d.next)) + ": " + d.reason));
  if (d.next == NextStep::kNeedsHelp) {
    PL_ASSIGN_OR_RETURN(bool moved, MoveTaskForRetry(db_, task_id, "in-progress", "needs-help", d.retries, 0, now));
    if (moved) PL_RETURN_IF_ERROR(Comment(task_id, "Pipeline: " + d.reason + " (run=" + run_id + "); needs help"));
    return Status::Ok();
  }
  PL_ASSIGN_OR_RETURN(bool moved,
                      MoveTaskForRetry(db_, task_id, "in-progress", "open", d.retries, d.not_before, now));
  if (moved) {
    if (d.not_before > now) NoteWake(d.not_before);
    PL_RETURN_IF_ERROR(Comment(task_id, "Pipeline: " + d.reason + " (run=" + run_id + ")"));
  }
  return Status::Ok();
}

Status Scheduler::Promote(const std::string& task_id, const std::string& how) {
  Micros now = clock_.Now();
  std::string to = options_.review_required ? "review" : "verified";
  PL_ASSIGN_OR_RETURN(bool moved, MoveTask(db_, task_id, "in-progress", to, now));
  if (!moved) return Status::Ok();
  std::string text = how == "skipped" ? "Pipeline: verification skipped (no verify command configured), promoting to " + to
                                      : "Pipeline: build verification passed, promoting to " + to;
  return Comment(task_id, text);
}

Status Scheduler::Reject(const std::string& task_id, const std::string& from, const std::string& feedback,
                         const std::string& comment) {
  Micros now = clock_.Now();
  PL_ASSIGN_OR_RETURN(bool moved, RejectPatchset(db_, task_id, from, feedback, now));
  if (!moved) return Status::Ok();
  PL_RETURN_IF_ERROR(Comment(task_id, comment));
  Stmt& s = db_.Cached("SELECT patchset FROM tasks WHERE id = ?");
  s.BindAll(task_id);
  PL_ASSIGN_OR_RETURN(bool row, s.Step());
  int64_t patchset = row ? s.Int(0) : 0;
  s.Reset();
  PL_ASSIGN_OR_RETURN(double cost, TaskCostCents(db_, task_id));
  Decision d = DecideReject(options_, patchset, cost, now);
  if (d.next == NextStep::kReject) {
    // The same back-off as a failed run: a hopeless check is not re-run at once.
    if (d.not_before > now) {
      PL_RETURN_IF_ERROR(MoveTaskForRetry(db_, task_id, "open", "open", 0, d.not_before, now).status());
      NoteWake(d.not_before);
    }
    return Status::Ok();
  }
  PL_RETURN_IF_ERROR(MoveTask(db_, task_id, "open", "needs-help", now).status());
  PL_RETURN_IF_ERROR(AddEvent(db_, now, task_id, std::nullopt, "failure",
                              patchset >= options_.max_patchsets ? "patchset limit reached" : d.reason));
  return Comment(task_id, "Pipeline: " + d.reason + "; needs help");
}

Status Scheduler::HarvestVerify(const RunRecord& run, StepResult*) {
  const std::string& task_id = *run.task_id;
  std::string domain = run.domain.value_or("");
  bool restart = Restartable(run) && !run.started_at;
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
    if (status != std::optional<std::string>("in-progress")) {
      if (status) PL_RETURN_IF_ERROR(Comment(task_id, "Pipeline scheduler: task was moved to " + *status +
                                                          " during verification; leaving it there"));
      return AddEvent(db_, now, task_id, run.run_id, "left", "task is " + status.value_or("gone"));
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
    PL_RETURN_IF_ERROR(Reject(task_id, "in-progress", feedback,
                              "Pipeline: " + why + " (run=" + run.run_id + "), re-opening as a new patchset:\n" +
                                  TailUtf8(tail, 1000)));
    return AddEvent(db_, now, task_id, run.run_id, "failure", why);
  });
  Untrack(run.run_id);
  PL_RETURN_IF_ERROR(s);
  Emit("harvest", task_id, run.run_id, restart ? "verify again" : pass ? "verify passed" : "verify failed");
  if (again) LaunchRecorded(*again, task_id, domain, "verify");
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
      PL_ASSIGN_OR_RETURN(bool moved, MoveTaskForRetry(db_, id, "needs-help", "open", 0, 0, now));
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
