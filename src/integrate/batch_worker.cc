#include "integrate/batch_worker.h"

#include <future>
#include <set>
#include <utility>

#include "git/paths.h"
#include "integrate/check.h"
#include "integrate/journal.h"
#include "integrate/lock.h"
#include "integrate/outcome.h"
#include "integrate/wait_all.h"
#include "integrate/worker.h"
#include "util/log.h"
#include "util/text.h"

namespace pipeline {

nlohmann::json BatchTaskResult::ToJson() const {
  nlohmann::json j = {{"task", task_id}, {"outcome", outcome}};
  if (outcome == "integrated") {
    j["commit"] = commit;
    if (already) j["already"] = true;
  } else if (outcome == "conflict") {
    j["files"] = files;
    j["reason"] = detail;
  } else if (outcome == "check-failed") {
    j["output_tail"] = detail;
  } else if (outcome == "empty") {
    j["reason"] = detail;
  }
  return j;
}

nlohmann::json BatchWorkResult::SummaryJson() const {
  if (outcome != "batch") {
    nlohmann::json j = {{"outcome", outcome}};
    j[outcome == "error" ? "message" : "reason"] = reason;
    return j;
  }
  nlohmann::json j = {{"outcome", "batch"},   {"changes", tasks.size()}, {"landed", landed},
                      {"checks_run", checks_run}, {"old_base", old_base},  {"new_base", new_base},
                      {"green_base", green_base}, {"base_red", base_red}};
  if (base_red) j["base_output"] = base_output;
  return j;
}

int BatchWorkResult::ExitCode() const {
  if (outcome == "waiting") return kExitWaiting;
  if (outcome == "error") return 1;
  return 0;  // a batch that ran answers for each change; the scheduler reads the lines
}

BatchIntegrator::BatchIntegrator(Git& git, ProcessRunner& runner, RootPaths paths)
    : git_(git), runner_(runner), paths_(std::move(paths)) {}

namespace {

BatchWorkResult Fail(const std::string& why) {
  BatchWorkResult r;
  r.outcome = "error";
  r.reason = why;
  return r;
}

BatchWorkResult Wait(const std::string& why) {
  BatchWorkResult r;
  r.outcome = "waiting";
  r.reason = why;
  return r;
}

// "merging X into Y conflicts in a, b" -> {a, b}.
std::vector<std::string> ConflictFiles(const std::string& why) {
  const std::string marker = " conflicts in ";
  size_t at = why.rfind(marker);
  if (at == std::string::npos) return {};
  std::vector<std::string> files;
  for (const std::string& f : Split(why.substr(at + marker.size()), ',')) {
    std::string t = Trim(f);
    if (!t.empty() && t != "(no file named)") files.push_back(t);
  }
  return files;
}

Result<std::string> CheckoutBlocker(Git& git, const std::string& base, std::optional<std::string>* checkout) {
  PL_ASSIGN_OR_RETURN(*checkout, git.WorktreeWithBranchCheckedOut(base));
  if (!*checkout) return std::string();
  PL_ASSIGN_OR_RETURN(bool clean, git.IsClean(**checkout));
  if (clean) return std::string();
  return "base branch " + base + " is checked out at " + **checkout + " with uncommitted changes";
}

}  // namespace

BatchWorkResult BatchIntegrator::Run(const BatchWorkRequest& req, const BatchWorkHooks& hooks) {
  if (req.mode != "merge" && req.mode != "squash")
    return Fail("unknown integration mode " + Quoted(req.mode) + " (expected squash or merge)");
  if (req.base.empty()) return Fail("no base branch given");
  if (req.tasks.empty()) return Fail("no task given");
  std::set<std::string> seen;
  for (const BatchTask& t : req.tasks) {
    if (Status st = ValidateTaskIdForPath(t.task_id); !st.ok()) return Fail(st.message());
    if (!seen.insert(t.task_id).second) return Fail("task " + t.task_id + " is named twice");
  }
  auto lock = IntegrateLock::Acquire(IntegrateLockPath(paths_, req.base), req.lock_wait_ms);
  if (!lock.ok()) return Fail(lock.message());
  if (!*lock) return Wait("another integration into " + req.base + " is running");
  // Whatever a killed run left half done comes first (journal.h).
  auto repair = RepairInterruptedAdvance(git_, IntegrateJournalPath(paths_, req.base));
  if (!repair.ok()) return Fail(repair.message());
  if (!repair->empty()) return Wait(*repair);

  for (int attempt = 0; attempt <= kIntegrateRetries; ++attempt) {
    auto r = Attempt(req, hooks);
    if (!r.ok()) return Fail(r.message());
    if (*r) return std::move(**r);
    Log("{} moved during the batch; starting again from its new head", req.base);
  }
  return Wait(req.base + " kept moving during the batch (" + std::to_string(kIntegrateRetries + 1) + " attempts)");
}

Result<std::optional<BatchWorkResult>> BatchIntegrator::Attempt(const BatchWorkRequest& req,
                                                                const BatchWorkHooks& hooks) {
  using Out = std::optional<BatchWorkResult>;
  PL_ASSIGN_OR_RETURN(const std::string b, Integrator::BaseTip(git_, req.base));
  PL_ASSIGN_OR_RETURN(std::string base_tree, git_.RevParse(b + "^{tree}"));

  BatchWorkResult res;
  res.outcome = "batch";
  res.old_base = res.new_base = b;
  std::map<std::string, BatchTaskResult> by_task;
  std::map<std::string, const BatchTask*> task_of;
  std::vector<QueuedChange> changes;
  // Each change alone against the base first: what adds nothing, what the
  // base already holds and what conflicts with the base itself never enter
  // the batch.
  // Looked at a few at a time: three git processes each, and a batch of
  // 32 would otherwise spend a second here before its first check.
  auto look = [&](const BatchTask& t) -> Result<std::pair<BatchTaskResult, std::optional<QueuedChange>>> {
    BatchTaskResult tr;
    tr.task_id = t.task_id;
    std::optional<QueuedChange> change;
    PL_ASSIGN_OR_RETURN(std::string branch, TaskBranch(t.task_id));
    auto tip = git_.RevParse("refs/heads/" + branch);
    if (!tip.ok()) {
      if (tip.kind() != ErrorKind::kNotFound) return tip.error();
      tr.outcome = "empty";
      tr.detail = "task " + t.task_id + " has no branch " + branch;
      return std::make_pair(tr, change);
    }
    PL_ASSIGN_OR_RETURN(MergeResult merged, git_.MergeTree(b, *tip));
    if (!merged.clean) {
      tr.outcome = "conflict";
      tr.files = merged.conflicted_files;
      tr.detail = "merging " + branch + " into " + req.base + " conflicts";
    } else if (merged.tree == base_tree) {
      // Nothing to add: a branch with no commit of its own, or a change the
      // base holds already (a batch redone after its ref moved: never
      // merged twice).
      PL_ASSIGN_OR_RETURN(int ahead, git_.CommitsAhead(*tip, b));
      if (ahead == 0) {
        tr.outcome = "empty";
        tr.detail = "the task branch " + branch + " has no commit that " + req.base + " lacks: nothing to integrate";
      } else {
        tr.outcome = "integrated";
        tr.already = true;
        tr.commit = b;
      }
    } else {
      tr.outcome = "requeued";
      change = QueuedChange{t.task_id, t.title, *tip, merged.tree};
    }
    return std::make_pair(tr, change);
  };
  constexpr size_t kLookingAtOnce = 4;
  for (size_t from = 0; from < req.tasks.size(); from += kLookingAtOnce) {
    std::vector<std::future<Result<std::pair<BatchTaskResult, std::optional<QueuedChange>>>>> looking;
    const size_t to = std::min(req.tasks.size(), from + kLookingAtOnce);
    for (size_t i = from; i < to; ++i) looking.push_back(std::async(std::launch::async, look, std::cref(req.tasks[i])));
    PL_ASSIGN_OR_RETURN(auto looked, WaitForAll(looking));
    for (size_t i = from; i < to; ++i) {
      auto& [result, change] = looked[i - from];
      task_of[req.tasks[i].task_id] = &req.tasks[i];
      if (change) changes.push_back(*change);
      by_task[req.tasks[i].task_id] = std::move(result);
    }
  }

  std::optional<std::string> checkout;
  PL_ASSIGN_OR_RETURN(std::string blocker, CheckoutBlocker(git_, req.base, &checkout));
  if (!blocker.empty()) return Out(Wait(blocker));

  // The check environment of a prefix: the batch's tasks, the commit checked.
  std::map<std::string, std::string> env = req.tasks.front().check_env;
  std::string ids;
  for (const QueuedChange& c : changes) ids += (ids.empty() ? "" : " ") + c.task_id;
  env["PIPELINE_TASK_ID"] = ids;
  env["PIPELINE_BASE"] = req.base;
  env["PIPELINE_BASE_COMMIT"] = b;
  env["PIPELINE_REPO"] = paths_.repo();
  for (const BatchTask& t : req.tasks)
    for (const char* k : {"PIPELINE_NAMESPACE", "PIPELINE_DOMAIN"}) {
      auto a = t.check_env.find(k), f = req.tasks.front().check_env.find(k);
      if (a == t.check_env.end() || f == req.tasks.front().check_env.end() || a->second != f->second) env[k] = "";
    }
  PrefixCheck check = [this, env, base = req.base](int slot, const std::string& commit,
                                                    const std::vector<VerifyCommand>& cmds) -> Result<CheckResult> {
    auto e = env;
    e["PIPELINE_COMMIT"] = commit;
    const std::string dir = IntegrateScratchPath(paths_, base) + "-" + std::to_string(slot);
    CheckResult all;
    all.passed = true;
    for (const VerifyCommand& cmd : cmds) {
      PL_ASSIGN_OR_RETURN(CheckResult r, RunIntegrationCheck(git_, runner_, dir, commit, cmd, e));
      if (!r.passed) return r;
      all.output_tail = r.output_tail;
    }
    return all;
  };
  auto checks_for = [&](const QueuedChange& q) { return task_of.at(q.task_id)->checks; };

  std::string green = req.green_base == b ? b : std::string();
  if (!changes.empty() && req.recheck_base && green.empty()) {
    // The base was red: it alone decides whether anything may land.
    std::vector<VerifyCommand> cmds;
    std::set<std::vector<std::string>> distinct;
    for (const QueuedChange& q : changes)
      for (VerifyCommand& c : checks_for(q))
        if (distinct.insert(c.argv).second) cmds.push_back(std::move(c));
    PL_ASSIGN_OR_RETURN(CheckResult r, check(0, b, cmds));
    ++res.checks_run;
    if (!r.passed) {
      res.base_red = true;
      res.base_output = r.output_tail;
    } else {
      green = b;
    }
  }

  if (!changes.empty() && !res.base_red) {
    BatchRequest br;
    br.base = req.base;
    br.mode = req.mode;
    br.changes = changes;
    br.checks_for = checks_for;
    br.message_for = [&](const QueuedChange& q) {
      IntegrateRequest ir;
      ir.task_id = q.task_id;
      ir.title = q.title;
      ir.mode = req.mode;
      return Integrator::CommitMessage(ir);
    };
    br.parallel = std::max(1, req.parallel);
    br.base_green_commit = green;
    const std::string journal = IntegrateJournalPath(paths_, req.base);
    std::string waiting;
    BatchHooks bh;
    bh.before_advance = [&](const std::string& old_sha, const std::string& new_sha) -> Status {
      // The checks may have taken minutes: look at the checkout again.
      PL_ASSIGN_OR_RETURN(waiting, CheckoutBlocker(git_, req.base, &checkout));
      if (!waiting.empty()) return Unavailable(waiting);
      if (checkout) PL_RETURN_IF_ERROR(WriteJournal(journal, {req.tasks.front().task_id, req.base, old_sha, new_sha, *checkout}));
      if (hooks.before_ref) hooks.before_ref();
      return Status::Ok();
    };
    auto out = RunBatch(git_, br, check, bh);
    if (!out.ok()) {
      if (!waiting.empty()) return Out(Wait(waiting));
      (void)RemoveJournal(journal);
      return out.error();
    }
    res.checks_run += out->checks_run;
    if (out->lost_race) {
      PL_RETURN_IF_ERROR(RemoveJournal(journal));
      return Out();
    }
    res.new_base = out->new_base;
    res.base_red = out->base_red;
    res.base_output = out->base_output;
    green = out->green_base.empty() ? green : out->green_base;
    if (res.new_base != b) {
      if (hooks.after_ref) hooks.after_ref();
      if (checkout) {
        Status followed = git_.FastForwardCheckout(*checkout, b, res.new_base);
        if (followed.ok()) {
          PL_RETURN_IF_ERROR(RemoveJournal(journal));
        } else {
          // The changes landed; only the person's files lag, and the journal
          // stays so the next run brings them forward.
          LogWarning("the checkout of {} at {} could not be brought forward: {}", req.base, *checkout,
                     followed.message());
        }
      }
    }
    for (const BatchChangeOutcome& c : out->changes) {
      BatchTaskResult& tr = by_task[c.task_id];
      switch (c.kind) {
        case BatchChangeOutcome::Kind::kLanded:
          tr.outcome = "integrated";
          tr.commit = c.commit;
          break;
        case BatchChangeOutcome::Kind::kConflict:
          tr.outcome = "conflict";
          tr.files = ConflictFiles(c.feedback);
          tr.detail = c.feedback;
          break;
        case BatchChangeOutcome::Kind::kCheckFailed:
          tr.outcome = "check-failed";
          tr.detail = c.feedback;
          break;
        case BatchChangeOutcome::Kind::kRequeued:
          tr.outcome = "requeued";
          break;
      }
    }
  }
  res.green_base = res.base_red ? std::string() : (green == res.new_base ? green : std::string());
  for (const BatchTask& t : req.tasks) {
    res.tasks.push_back(by_task[t.task_id]);
    if (by_task[t.task_id].outcome == "integrated" && !by_task[t.task_id].already) ++res.landed;
  }
  Log("batch of {} into {}: {} landed, {} checks, base {}", req.tasks.size(), req.base, res.landed, res.checks_run,
      res.base_red ? "red" : "not red");
  return Out(std::move(res));
}

}  // namespace pipeline
