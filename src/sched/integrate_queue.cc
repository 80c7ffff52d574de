// The integration queue: verified tasks, oldest first, one integration run at
// a time per base branch (this scheduler has one base). The worker
// (`pipeline integrate-task`) merges and verifies; it never changes a task's
// status, so the result is applied here, in one transaction, from the JSON
// line it prints last.
#include <sys/stat.h>

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

// What a person changes to unblock a waiting integration: the checkout's
// index and HEAD, the base ref, and the files that were dirty. Stat only, so
// checking it every few seconds costs no process.
std::string CheckoutFingerprint(const std::string& repo, const std::string& checkout, const std::string& base,
                                const std::vector<std::string>& files) {
  std::string fp;
  auto add = [&](const std::string& path) {
    struct stat st = {};
    if (stat(path.c_str(), &st) != 0) {
      fp += path + ":-;";
      return;
    }
    fp += path + ":" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
          std::to_string(st.st_size) + ";";
  };
  add(checkout + "/.git/index");
  add(checkout + "/.git/HEAD");
  add(repo + "/.git/refs/heads/" + base);
  add(repo + "/.git/packed-refs");
  for (const auto& f : files) add(checkout + "/" + f);
  return fp;
}

// The files `git status` calls modified in the checkout (tracked only, as the
// worker's check), at most 20.
std::vector<std::string> DirtyFiles(ProcessRunner& runner, const std::string& checkout) {
  Command c;
  c.argv = {"git", "-C", checkout, "status", "--porcelain", "--untracked-files=no"};
  c.timeout_ms = 30000;
  auto res = runner.Run(c);
  std::vector<std::string> files;
  if (!res.ok() || !res->ok()) return files;
  for (const auto& line : Split(res->out, '\n')) {
    if (line.size() < 4) continue;
    std::string path = line.substr(3);
    size_t arrow = path.find(" -> ");
    if (arrow != std::string::npos) path = path.substr(arrow + 4);
    files.push_back(path);
    if (files.size() >= 20) break;
  }
  return files;
}

}  // namespace

Status Scheduler::FeedIntegration(StepResult* r) {
  if (options_.shared_workspace || integrating_ > 0) return Status::Ok();
  Micros now = clock_.Now();
  PL_ASSIGN_OR_RETURN(auto ids, VerifiedTasks(db_, options_.parent, options_.task_id, 1));
  if (ids.empty()) return Status::Ok();
  if (!integrate_waiting_fp_.empty() &&
      CheckoutFingerprint(paths_.repo(), integrate_waiting_checkout_, base_, integrate_waiting_files_) !=
          integrate_waiting_fp_) {
    integrate_not_before_ = 0;  // the checkout changed: try again now
  }
  if (now < integrate_not_before_) {
    if (integrate_waiting_fp_.empty()) {
      r->more = true;
    } else if (!options_.until_idle) {
      NoteWake(now + options_.integrate_retry_s * 1'000'000);  // look at the checkout again (stat only)
    }  // --until-idle: a waiting integration is not work to wait for; the run ends saying so
    return Status::Ok();
  }
  integrate_waiting_fp_.clear();
  const std::string& id = ids.front();
  if (dry_) {
    Emit("would-integrate", id, std::nullopt, "into " + base_);
    return Status::Ok();
  }
  std::string run_id;
  PL_RETURN_IF_ERROR(db_.Write([&]() -> Status {
    PL_ASSIGN_OR_RETURN(std::optional<int64_t> patchset, VerifiedPatchset(db_, id));
    if (!patchset) return Status::Ok();
    PL_ASSIGN_OR_RETURN(run_id, RecordIntegrateRun(id, *patchset));
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
    // No answer (the worker crashed): the merge may have happened before it
    // died. Then the base holds the branch's work; a branch with no commit of
    // its own adds nothing and never counts as integrated.
    auto merged = repo_->MergedInto(task_id, base_);
    on_base = merged.ok() && *merged;
  }
  if (dry_) {
    Emit("would-harvest", task_id, run.run_id, "integration " + (outcome.empty() ? "gave no answer" : outcome));
    return Status::Ok();
  }
  // Waiting on a person (uncommitted changes in the base's checkout), rather
  // than on another worker: retried when the checkout changes.
  const bool dirty = outcome == "waiting" && (*line).contains("reason") && (*line)["reason"].is_string() &&
                     (*line)["reason"].get<std::string>().find("uncommitted changes") != std::string::npos;
  integrate_waiting_fp_.clear();
  integrate_waiting_files_.clear();
  if (dirty) {
    // Looked at before the transaction (git runs here): where the base is
    // checked out, what is dirty there, and how that looks to stat.
    std::optional<std::string> checkout;
    if (repo_) {
      auto found = repo_->CheckoutOfBranch(base_);
      if (found.ok()) checkout = *found;
    }
    integrate_waiting_checkout_ = checkout.value_or(paths_.repo());
    integrate_waiting_files_ = DirtyFiles(*env_.runner, integrate_waiting_checkout_);
    integrate_waiting_fp_ =
        CheckoutFingerprint(paths_.repo(), integrate_waiting_checkout_, base_, integrate_waiting_files_);
  }
  bool remove_worktree = false;
  std::string summary;
  Status s = db_.Write([&]() -> Status {
    Micros now = clock_.Now();
    PL_ASSIGN_OR_RETURN(bool mine, MarkHarvested(db_, run.run_id, now));
    if (!mine) return Status::Ok();
    PL_ASSIGN_OR_RETURN(auto status, TaskStatusOf(db_, task_id));
    if (status != TaskStatus::kVerified) {
      summary = "task is " + TaskStatusText(status, "gone") + "; left as is";
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
      PL_RETURN_IF_ERROR(MoveTask(db_, task_id, TaskStatus::kVerified, TaskStatus::kDone, now).status());
      PL_RETURN_IF_ERROR(Comment(task_id, "Pipeline: integrated into " + base_ + " at " + commit));
      remove_worktree = true;
      summary = "integrated at " + commit;
      return AddEvent(db_, now, task_id, run.run_id, "integrated", commit);
    }
    if (outcome == "conflict" || outcome == "check-failed" || outcome == "empty") {
      std::string feedback;
      if (outcome == "empty") {
        std::string reason = (*line).contains("reason") && (*line)["reason"].is_string()
                                 ? (*line)["reason"].get<std::string>()
                                 : "the task branch adds nothing";
        feedback = "Nothing was integrated into " + base_ + ": " + reason +
                   ". Commit the work on the task branch.";
      } else if (outcome == "conflict") {
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
      PL_RETURN_IF_ERROR(Reject(task_id, TaskStatus::kVerified, feedback,
                                "Pipeline: integration " + outcome + ", re-opening as a new patchset:\n" +
                                    TailUtf8(feedback, 1000)));
      summary = "integration " + outcome;
      return AddEvent(db_, now, task_id, run.run_id, "failure", summary);
    }
    if (outcome == "waiting") {
      std::string reason = (*line).contains("reason") && (*line)["reason"].is_string()
                               ? (*line)["reason"].get<std::string>()
                               : "no reason given";
      // A state, not a failure: one event when it starts waiting (or the
      // reason changes), and the next attempt when the checkout changes
      // (or after 10 minutes, for changes a stat does not see).
      std::string why = "integration waiting: " + reason;
      if (!integrate_waiting_files_.empty()) {
        why += " (";
        for (size_t i = 0; i < integrate_waiting_files_.size(); ++i) why += (i ? ", " : "") + integrate_waiting_files_[i];
        why += ")";
      }
      summary = why;
      if (dirty) {
        integrate_not_before_ = now + 600'000'000;
        if (!options_.until_idle) NoteWake(now + options_.integrate_retry_s * 1'000'000);
      } else {
        integrate_not_before_ = now + options_.integrate_retry_s * 1'000'000;
        NoteWake(integrate_not_before_);
      }
      Stmt& last = db_.Cached(
          "SELECT kind, detail FROM events WHERE task_id = ? AND kind IN "
          "('integrate-waiting', 'integrate-failed', 'integrated', 'failure', 'verify-pass') ORDER BY id DESC LIMIT 1");
      last.BindAll(task_id);
      PL_ASSIGN_OR_RETURN(bool row, last.Step());
      bool same = row && last.Text(0) == "integrate-waiting" && last.OptText(1).value_or("") == why;
      last.Reset();
      if (same) return Status::Ok();
      return AddEvent(db_, now, task_id, run.run_id, "integrate-waiting", why);
    }
    return retry_later("integrate-failed", "integration run " + std::string(RunStatusName(run.status)) +
                                               " without an answer" +
                                               (run.error ? ": " + SingleLine(TruncateUtf8(*run.error, 200)) : ""));
  });
  Untrack(run.run_id);
  PL_RETURN_IF_ERROR(s);
  Emit("harvest", task_id, run.run_id, summary);
  if (remove_worktree && repo_) {
    auto rm = repo_->RemoveWorktree(task_id, base_);
    if (!rm.ok()) Emit("error", task_id, std::nullopt, "removing the worktree: " + rm.message());
    for (const auto& ref : rm.ok() ? *rm : std::vector<std::string>())
      Emit("archive", task_id, std::nullopt, "kept commits " + base_ + " does not hold as " + ref);
  }
  return Status::Ok();
}

}  // namespace pipeline
