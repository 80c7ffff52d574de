// The integration queue: verified tasks, oldest first, one integration run at
// a time per base branch (this scheduler has one base). The worker
// (`pipeline integrate-task`) merges and verifies; it never changes a task's
// status, so the result is applied here, in one transaction, from the JSON
// line it prints last.
#include <nlohmann/json.hpp>

#include "agent/run_store.h"
#include "git/paths.h"
#include "sched/scheduler.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline {

namespace {

// The last non-empty line of the run's stdout, as a JSON object with an outcome.
std::optional<nlohmann::json> OutcomeLine(const RunRecord& run) {
  if (run.stdout_path.empty()) return std::nullopt;
  auto text = ReadFile(run.stdout_path);
  if (!text.ok()) return std::nullopt;
  std::string t = Trim(*text);
  size_t nl = t.find_last_of('\n');
  std::string last = nl == std::string::npos ? t : t.substr(nl + 1);
  auto j = nlohmann::json::parse(last, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("outcome") || !j["outcome"].is_string())
    return std::nullopt;
  return j;
}

}  // namespace

Status Scheduler::FeedIntegration(StepResult* r) {
  if (options_.shared_workspace || integrating_ > 0) return Status::Ok();
  Micros now = clock_.Now();
  PL_ASSIGN_OR_RETURN(auto ids, VerifiedTasks(db_, options_.parent, options_.task_id, 1));
  if (ids.empty()) return Status::Ok();
  if (now < integrate_not_before_) {
    r->more = true;
    return Status::Ok();
  }
  const std::string& id = ids.front();
  if (dry_) {
    Emit("would-integrate", id, std::nullopt, "into " + base_);
    return Status::Ok();
  }
  std::string run_id;
  PL_RETURN_IF_ERROR(db_.Write([&]() -> Status {
    Stmt& s = db_.Cached("SELECT patchset FROM tasks WHERE id = ? AND status = 'verified'");
    s.BindAll(id);
    PL_ASSIGN_OR_RETURN(bool row, s.Step());
    int64_t patchset = row ? s.Int(0) : 0;
    s.Reset();
    if (!row) return Status::Ok();
    PL_ASSIGN_OR_RETURN(run_id, RecordIntegrateRun(id, patchset));
    return Status::Ok();
  }));
  if (!run_id.empty()) LaunchRecorded(run_id, id, "", "integrate");
  return Status::Ok();
}

Status Scheduler::HarvestIntegrate(const RunRecord& run, StepResult*) {
  const std::string& task_id = *run.task_id;
  auto line = OutcomeLine(run);
  std::string outcome = line ? (*line)["outcome"].get<std::string>() : "";
  bool on_base = false;
  if (!line && repo_ && run.started_at) {
    // No answer (the worker crashed): the merge may have happened before it died.
    auto merged = repo_->MergedInto(task_id, base_);
    on_base = merged.ok() && *merged;
  }
  if (dry_) {
    Emit("would-harvest", task_id, run.run_id, "integration " + (outcome.empty() ? "gave no answer" : outcome));
    return Status::Ok();
  }
  bool remove_worktree = false;
  std::string summary;
  Status s = db_.Write([&]() -> Status {
    Micros now = clock_.Now();
    PL_ASSIGN_OR_RETURN(bool mine, MarkHarvested(db_, run.run_id, now));
    if (!mine) return Status::Ok();
    PL_ASSIGN_OR_RETURN(auto status, TaskStatusOf(db_, task_id));
    if (status != std::optional<std::string>("verified")) {
      summary = "task is " + status.value_or("gone") + "; left as is";
      return AddEvent(db_, now, task_id, run.run_id, "left", summary);
    }
    auto retry_later = [&](const std::string& kind, const std::string& why) -> Status {
      integrate_not_before_ = now + options_.integrate_retry_s * 1'000'000;
      NoteWake(integrate_not_before_);
      summary = why;
      return AddEvent(db_, now, task_id, run.run_id, kind, why);
    };
    if (outcome == "integrated" || (!line && on_base)) {
      std::string commit = line && (*line).contains("commit") && (*line)["commit"].is_string()
                               ? (*line)["commit"].get<std::string>()
                               : std::string("(already on ") + base_ + ")";
      PL_RETURN_IF_ERROR(MoveTask(db_, task_id, "verified", "done", now).status());
      PL_RETURN_IF_ERROR(Comment(task_id, "Pipeline: integrated into " + base_ + " at " + commit));
      remove_worktree = true;
      summary = "integrated at " + commit;
      return AddEvent(db_, now, task_id, run.run_id, "integrated", commit);
    }
    if (outcome == "conflict" || outcome == "check-failed") {
      std::string feedback;
      if (outcome == "conflict") {
        feedback = "Integration into " + base_ + " conflicted in:";
        if ((*line).contains("files") && (*line)["files"].is_array())
          for (const auto& f : (*line)["files"])
            if (f.is_string()) feedback += "\n- " + f.get<std::string>();
        feedback += "\nRebase the task branch on " + base_ + " and resolve the conflicts.";
      } else {
        std::string tail = (*line).contains("output_tail") && (*line)["output_tail"].is_string()
                               ? (*line)["output_tail"].get<std::string>()
                               : "";
        feedback = "The checks failed on the merge with " + base_ + ":\n" + TailUtf8(tail, 4000);
      }
      PL_RETURN_IF_ERROR(Reject(task_id, "verified", feedback,
                                "Pipeline: integration " + outcome + ", re-opening as a new patchset:\n" +
                                    TailUtf8(feedback, 1000)));
      summary = "integration " + outcome;
      return AddEvent(db_, now, task_id, run.run_id, "failure", summary);
    }
    if (outcome == "waiting") {
      std::string reason = (*line).contains("reason") && (*line)["reason"].is_string()
                               ? (*line)["reason"].get<std::string>()
                               : "no reason given";
      return retry_later("integrate-waiting", "integration waiting: " + reason);
    }
    return retry_later("integrate-failed", "integration run " + std::string(RunStatusName(run.status)) +
                                               " without an answer" +
                                               (run.error ? ": " + SingleLine(TruncateUtf8(*run.error, 200)) : ""));
  });
  Untrack(run.run_id);
  PL_RETURN_IF_ERROR(s);
  Emit("harvest", task_id, run.run_id, summary);
  if (remove_worktree && repo_) {
    Status rm = repo_->RemoveWorktree(task_id);
    if (!rm.ok()) Emit("error", task_id, std::nullopt, "removing the worktree: " + rm.message());
  }
  return Status::Ok();
}

}  // namespace pipeline
