// The integration queue: verified tasks, oldest first, one integration run at
// a time per base branch (this scheduler has one base), taking up to
// integrate.batch_max tasks at once. The worker (`pipeline integrate-batch`,
// or `integrate-task` when batch_max is 1) merges and checks; it never
// changes a task's status, so every change's result is applied here, in one
// transaction, from the JSON lines it prints (one per change, a summary
// last). A base that fails its check stops the queue until it passes again
// (docs/integrate.md).
#include <sys/stat.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <set>

#include "agent/run_store.h"
#include "git/paths.h"
#include "sched/merge_queue.h"
#include "sched/scheduler.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline {

namespace {

// The run's stdout lines that are JSON objects with an outcome, in order
// (the last one is the run's answer; a batch prints one per change before it).
std::vector<nlohmann::json> OutcomeLines(const RunRecord& run) {
  std::vector<nlohmann::json> out;
  if (run.stdout_path.empty()) return out;
  auto text = ReadFile(run.stdout_path);
  if (!text.ok()) return out;
  for (const std::string& raw : Split(Trim(*text), '\n')) {
    auto j = nlohmann::json::parse(Trim(raw), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("outcome") || !j["outcome"].is_string()) continue;
    out.push_back(std::move(j));
  }
  // Only a well-formed last line is an answer.
  std::string t = Trim(*text);
  size_t nl = t.find_last_of('\n');
  auto last = nlohmann::json::parse(nl == std::string::npos ? t : t.substr(nl + 1), nullptr, false);
  if (last.is_discarded() || !last.is_object() || !last.contains("outcome")) out.clear();
  return out;
}

std::string Str(const nlohmann::json& j, const char* key, const std::string& fallback = "") {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : fallback;
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
  PL_ASSIGN_OR_RETURN(auto ids, VerifiedTasks(db_, options_.parent, options_.task_id, std::max(1, options_.batch_max)));
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
  // A red base lands nothing: it is checked again when it moves, when a
  // person asks (`pipeline integrate --recheck-base`) or every
  // integrate.base_recheck_s.
  bool recheck = false;
  if (options_.batch_max > 1) {
    PL_ASSIGN_OR_RETURN(BaseState base_state, ReadBaseState(db_));
    if (base_state.red) {
      std::string head;
      if (repo_) {
        auto h = repo_->BranchHead(base_);
        if (h.ok()) head = *h;
      }
      Micros due = base_state.since + options_.base_recheck_s * 1'000'000;
      bool moved = !head.empty() && !base_state.commit.empty() && head != base_state.commit;
      if (!moved && !base_state.recheck_asked && now < due) {
        if (!options_.until_idle) NoteWake(due);  // --until-idle: a red base is not work to wait for
        return Status::Ok();
      }
      recheck = true;
    }
  }
  integrate_waiting_fp_.clear();
  if (options_.batch_max <= 1) ids.resize(1);
  if (dry_) {
    std::string together;
    for (const auto& id : ids) together += " " + id;
    Emit("would-integrate", ids.front(), std::nullopt,
         "into " + base_ + (ids.size() > 1 ? " (a batch of" + together + ")" : ""));
    return Status::Ok();
  }
  std::string run_id;
  PL_RETURN_IF_ERROR(db_.Write([&]() -> Status {
    PL_ASSIGN_OR_RETURN(std::optional<int64_t> patchset, VerifiedPatchset(db_, ids.front()));
    if (!patchset) return Status::Ok();
    PL_ASSIGN_OR_RETURN(run_id, RecordIntegrateRun(ids, *patchset, recheck));
    return Status::Ok();
  }));
  if (!run_id.empty()) LaunchRecorded(run_id, ids.front(), "", "integrate");
  return Status::Ok();
}

Status Scheduler::ApplyIntegrateAnswer(const RunRecord& run, const std::string& task_id,
                                       const nlohmann::json& answer, bool dirty, std::string* summary, bool* done) {
  Micros now = clock_.Now();
  const std::string outcome = Str(answer, "outcome");
  PL_ASSIGN_OR_RETURN(auto status, TaskStatusOf(db_, task_id));
  if (status != TaskStatus::kVerified) {
    *summary = "task is " + TaskStatusText(status, "gone") + "; left as is";
    return AddEvent(db_, now, task_id, run.run_id, "left", *summary);
  }
  if (outcome == "integrated") {
    std::string commit = Str(answer, "commit", std::string("(already on ") + base_ + ")");
    PL_RETURN_IF_ERROR(MoveTask(db_, task_id, TaskStatus::kVerified, TaskStatus::kDone, now).status());
    PL_RETURN_IF_ERROR(Comment(task_id, "Pipeline: integrated into " + base_ + " at " + commit));
    *done = true;
    *summary = "integrated at " + commit;
    return AddEvent(db_, now, task_id, run.run_id, "integrated", commit);
  }
  if (outcome == "conflict" || outcome == "check-failed" || outcome == "empty") {
    std::string feedback;
    if (outcome == "empty") {
      feedback = "Nothing was integrated into " + base_ + ": " + Str(answer, "reason", "the task branch adds nothing") +
                 ". Commit the work on the task branch.";
    } else if (outcome == "conflict") {
      feedback = "Integration into " + base_ + " conflicted in:";
      if (answer.contains("files") && answer["files"].is_array())
        for (const auto& f : answer["files"])
          if (f.is_string()) feedback += "\n- " + f.get<std::string>();
      feedback += "\nRebase the task branch on " + base_ + " and resolve the conflicts.";
    } else {
      feedback = "The checks failed on the merge with " + base_ + ":\n" + TailUtf8(Str(answer, "output_tail"), 4000);
    }
    PL_RETURN_IF_ERROR(Reject(task_id, TaskStatus::kVerified, feedback,
                              "Pipeline: integration " + outcome + ", re-opening as a new patchset:\n" +
                                  TailUtf8(feedback, 1000)));
    *summary = "integration " + outcome;
    return AddEvent(db_, now, task_id, run.run_id, "failure", *summary);
  }
  if (outcome == "requeued") {
    *summary = "back in the merge queue";
    return AddEvent(db_, now, task_id, run.run_id, "integrate-requeued",
                    "back in the merge queue in its place (not decided by this batch)");
  }
  if (outcome == "waiting") {
    // A state, not a failure: one event when it starts waiting (or the
    // reason changes), and the next attempt when the checkout changes
    // (or after 10 minutes, for changes a stat does not see).
    std::string why = "integration waiting: " + Str(answer, "reason", "no reason given");
    if (!integrate_waiting_files_.empty()) {
      why += " (";
      for (size_t i = 0; i < integrate_waiting_files_.size(); ++i) why += (i ? ", " : "") + integrate_waiting_files_[i];
      why += ")";
    }
    *summary = why;
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
  // No answer for this change (the worker crashed, or failed): tried again.
  integrate_not_before_ = now + options_.integrate_retry_s * 1'000'000;
  NoteWake(integrate_not_before_);
  *summary = Str(answer, "why", "integration run " + std::string(RunStatusName(run.status)) + " without an answer" +
                                    (run.error ? ": " + SingleLine(TruncateUtf8(*run.error, 200)) : ""));
  return AddEvent(db_, now, task_id, run.run_id, "integrate-failed", *summary);
}

Status Scheduler::HarvestIntegrate(const RunRecord& run, StepResult*) {
  const std::vector<std::string> tasks = IntegrateRunTasks(run);
  const std::string& lead = *run.task_id;
  std::vector<nlohmann::json> lines = OutcomeLines(run);
  std::optional<nlohmann::json> last;
  if (!lines.empty()) last = lines.back();
  const std::string outcome = last ? Str(*last, "outcome") : "";
  // Each change's answer: a batch names them; the one-task worker answers
  // for its task; a worker that died answers for nobody.
  std::map<std::string, nlohmann::json> answers;
  if (outcome == "batch") {
    for (const auto& l : lines)
      if (l.contains("task") && l["task"].is_string()) answers[l["task"].get<std::string>()] = l;
  } else if (outcome == "waiting") {
    for (const auto& t : tasks) answers[t] = *last;
  } else if (last && outcome != "error") {
    answers[lead] = *last;  // integrate-task's one line
  }
  std::set<std::string> on_base;
  if (!last && repo_ && run.started_at) {
    // No answer (the worker crashed): the base may have moved before it
    // died. Then the base holds the batch's verified prefix; a branch with
    // no commit of its own adds nothing and never counts as integrated.
    for (const auto& t : tasks) {
      auto merged = repo_->MergedInto(t, base_);
      if (merged.ok() && *merged) on_base.insert(t);
    }
  }
  if (dry_) {
    Emit("would-harvest", lead, run.run_id, "integration " + (outcome.empty() ? "gave no answer" : outcome));
    return Status::Ok();
  }
  // Waiting on a person (uncommitted changes in the base's checkout), rather
  // than on another worker: retried when the checkout changes.
  const bool dirty = outcome == "waiting" && Str(*last, "reason").find("uncommitted changes") != std::string::npos;
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
  std::vector<std::string> done_tasks;
  std::vector<std::string> not_landed;  // "t-6 integration conflict", for the log line
  std::string summary;
  Status s = db_.Write([&]() -> Status {
    Micros now = clock_.Now();
    PL_ASSIGN_OR_RETURN(bool mine, MarkHarvested(db_, run.run_id, now));
    if (!mine) return Status::Ok();
    const std::string failed_why = "integration run " + std::string(RunStatusName(run.status)) +
                                   " without an answer" +
                                   (run.error ? ": " + SingleLine(TruncateUtf8(*run.error, 200)) : "");
    int landed = 0;
    for (const std::string& t : tasks) {
      nlohmann::json answer;
      auto a = answers.find(t);
      if (a != answers.end()) {
        answer = a->second;
      } else if (on_base.count(t)) {
        answer = {{"outcome", "integrated"}};
      } else if (outcome == "batch" || (last && outcome != "error" && t != lead)) {
        answer = {{"outcome", "requeued"}};  // in the run but not decided by it
      } else {
        answer = {{"outcome", "failed"}, {"why", last ? "integration error: " + Str(*last, "message") : failed_why}};
      }
      std::string one;
      bool done = false;
      PL_RETURN_IF_ERROR(ApplyIntegrateAnswer(run, t, answer, dirty, &one, &done));
      if (done) {
        done_tasks.push_back(t);
        ++landed;
      } else if (!one.empty()) {
        not_landed.push_back(t + " " + one);
      }
      if (tasks.size() == 1) summary = one;
    }
    if (outcome != "batch") return Status::Ok();
    // The batch as a whole: what it cost, and what it says about the base.
    const int64_t checks = last->value("checks_run", 0);
    const std::string green = Str(*last, "green_base");
    integrate_green_base_ = green;
    summary = fmt::format("batch of {}: {} landed, {} check run{}{}", tasks.size(), landed, checks,
                          checks == 1 ? "" : "s",
                          landed > 0 ? fmt::format(" ({:.2f} per landed change)", double(checks) / landed) : "");
    PL_RETURN_IF_ERROR(AddEvent(db_, now, std::nullopt, run.run_id, "integrate-batch", summary));
    // What became of the changes that did not land, for the log line.
    constexpr size_t kNamed = 5;
    for (size_t i = 0; i < not_landed.size() && i < kNamed; ++i) summary += "; " + not_landed[i];
    if (not_landed.size() > kNamed) summary += fmt::format("; {} more", not_landed.size() - kNamed);
    PL_ASSIGN_OR_RETURN(BaseState before, ReadBaseState(db_));
    if (last->value("base_red", false)) {
      const std::string commit = Str(*last, "old_base");
      summary += "; " + base_ + " fails its check: nothing lands until it passes";
      // Written at every red verdict: its time starts the next period.
      PL_RETURN_IF_ERROR(AddEvent(db_, now, std::nullopt, run.run_id, "base-red",
                                    BaseRedDetail(base_, commit, TailUtf8(Str(*last, "base_output"), 2000))));
    } else if (before.red && !green.empty()) {
      PL_RETURN_IF_ERROR(
          AddEvent(db_, now, std::nullopt, run.run_id, "base-green", base_ + " passes its check again at " + green));
    }
    return Status::Ok();
  });
  Untrack(run.run_id);
  PL_RETURN_IF_ERROR(s);
  Emit("harvest", lead, run.run_id, summary);
  if (repo_) {
    for (const std::string& t : done_tasks) {
      auto rm = repo_->RemoveWorktree(t, base_);
      if (!rm.ok()) Emit("error", t, std::nullopt, "removing the worktree: " + rm.message());
      for (const auto& ref : rm.ok() ? *rm : std::vector<std::string>())
        Emit("archive", t, std::nullopt, "kept commits " + base_ + " does not hold as " + ref);
    }
  }
  return Status::Ok();
}

}  // namespace pipeline
