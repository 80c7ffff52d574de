#include "integrate/batch.h"

#include <future>
#include <map>
#include <set>

#include "integrate/batch_plan.h"

namespace pipeline {

PrefixCheck ScratchWorktreeCheck(Git& git, ProcessRunner& runner, std::string scratch_root,
                                 std::map<std::string, std::string> env) {
  return [&git, &runner, root = std::move(scratch_root), env = std::move(env)](
             int slot, const std::string& commit, const std::vector<VerifyCommand>& cmds) -> Result<CheckResult> {
    CheckResult all;
    all.passed = true;
    for (const VerifyCommand& cmd : cmds) {
      PL_ASSIGN_OR_RETURN(CheckResult r,
                          RunIntegrationCheck(git, runner, root + "/check-" + std::to_string(slot), commit, cmd, env));
      if (!r.passed) return r;
      all.output_tail = r.output_tail;
    }
    return all;
  };
}

namespace {

// The distinct commands of changes 1..i of the batch.
std::vector<VerifyCommand> ChecksOfPrefix(const BatchRequest& req, const std::vector<QueuedChange>& merged, int i) {
  std::vector<VerifyCommand> out;
  std::set<std::vector<std::string>> seen;
  for (int j = 0; j < i; ++j) {
    if (!req.checks_for) break;
    for (VerifyCommand& c : req.checks_for(merged[j]))
      if (seen.insert(c.argv).second) out.push_back(std::move(c));
  }
  // The base alone (prefix 0) is checked with every command of the batch:
  // those are what a red base would fail.
  if (i == 0)
    for (const QueuedChange& q : merged)
      if (req.checks_for)
        for (VerifyCommand& c : req.checks_for(q))
          if (seen.insert(c.argv).second) out.push_back(std::move(c));
  return out;
}

}  // namespace

Result<BatchOutcome> RunBatch(Git& git, const BatchRequest& req, const PrefixCheck& check, const BatchHooks& hooks) {
  BatchOutcome out;
  const std::string ref = "refs/heads/" + req.base;
  PL_ASSIGN_OR_RETURN(out.old_base, git.RevParse(ref));
  out.new_base = out.old_base;
  auto message_for = req.message_for ? req.message_for : [](const QueuedChange& q) { return q.task_id + ": " + q.title; };
  PL_ASSIGN_OR_RETURN(SpeculativeBatch batch, BuildSpeculativeBatch(git, out.old_base, req.changes, req.mode, message_for));

  std::map<std::string, BatchChangeOutcome> by_task;
  for (const QueuedChange& q : req.changes) by_task[q.task_id] = {q.task_id, BatchChangeOutcome::Kind::kRequeued, "", ""};
  for (const auto& c : batch.conflicted) by_task[c.task_id] = {c.task_id, BatchChangeOutcome::Kind::kConflict, "", c.why};
  std::vector<QueuedChange> merged;
  for (const SpeculativeHead& h : batch.heads)
    for (const QueuedChange& q : req.changes)
      if (q.task_id == h.task_id) merged.push_back(q);

  const int k = static_cast<int>(merged.size());
  std::map<int, CheckResult> results;
  if (k > 0) {
    BatchPlan plan(k, req.parallel, !req.base_green_commit.empty() && req.base_green_commit == out.old_base);
    while (!plan.Done()) {
      std::vector<int> next = plan.NextChecks();
      if (next.empty()) return Error{ErrorKind::kIO, "merge queue: the batch plan stalled"};
      // One thread per check in flight (at most `parallel`): each runs its
      // command in its own scratch worktree.
      std::vector<std::future<Result<CheckResult>>> running;
      for (size_t s = 0; s < next.size(); ++s) {
        int prefix = next[s];
        std::string commit = batch.Prefix(prefix);
        std::vector<VerifyCommand> cmds = ChecksOfPrefix(req, merged, prefix);
        running.push_back(std::async(std::launch::async, [&check, s, commit, cmds]() {
          return check(static_cast<int>(s), commit, cmds);
        }));
      }
      for (size_t s = 0; s < next.size(); ++s) {
        Result<CheckResult> r = running[s].get();
        if (!r.ok()) return r.error();
        ++out.checks_run;
        plan.Record(next[s], r->passed);
        results[next[s]] = std::move(*r);
      }
    }
    BatchVerdict v = plan.Verdict();
    auto base_known = plan.results().find(0);
    if (base_known != plan.results().end() && base_known->second) out.green_base = out.old_base;
    if (v.base_red) {
      out.base_red = true;
      out.base_output = results[0].output_tail;
    } else {
      if (v.culprit) {
        const QueuedChange& bad = merged[*v.culprit - 1];
        by_task[bad.task_id] = {bad.task_id, BatchChangeOutcome::Kind::kCheckFailed, "",
                                results[*v.culprit].output_tail};
      }
      if (v.land > 0) {
        if (hooks.before_advance) PL_RETURN_IF_ERROR(hooks.before_advance(out.old_base, batch.Prefix(v.land)));
        Status moved = git.CompareAndSwapRef(ref, batch.Prefix(v.land), out.old_base);
        if (!moved.ok()) {
          if (moved.kind() != ErrorKind::kConflict) return moved.error();
          out.lost_race = true;  // every change goes back to the queue, the culprit included
          out.green_base.clear();
          for (auto& [id, o] : by_task)
            if (o.kind == BatchChangeOutcome::Kind::kCheckFailed) o = {id, BatchChangeOutcome::Kind::kRequeued, "", ""};
        } else {
          out.new_base = batch.Prefix(v.land);
          out.green_base = out.new_base;
          for (int i = 1; i <= v.land; ++i)
            by_task[merged[i - 1].task_id] = {merged[i - 1].task_id, BatchChangeOutcome::Kind::kLanded,
                                              batch.Prefix(i), ""};
        }
      }
    }
  }
  for (const QueuedChange& q : req.changes) out.changes.push_back(by_task[q.task_id]);
  return out;
}

}  // namespace pipeline
