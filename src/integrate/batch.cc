#include "integrate/batch.h"

#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "integrate/batch_plan.h"
#include "integrate/isolation_plan.h"
#include "integrate/wait_all.h"
#include "util/log.h"

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

// The distinct commands of the given changes (1-based indexes into merged);
// the base alone (no member) is checked with every command of the batch:
// those are what a red base would fail.
std::vector<VerifyCommand> ChecksOf(const BatchRequest& req, const std::vector<QueuedChange>& merged,
                                    const CheckMembers& members) {
  std::vector<VerifyCommand> out;
  if (!req.checks_for) return out;
  std::set<std::vector<std::string>> seen;
  auto add = [&](const QueuedChange& q) {
    for (VerifyCommand& c : req.checks_for(q))
      if (seen.insert(c.argv).second) out.push_back(std::move(c));
  };
  for (int i : members) add(merged[i - 1]);
  if (members.empty())
    for (const QueuedChange& q : merged) add(q);
  return out;
}

// The head commit of any set of the batch's changes merged onto the base in
// queue order, each set built once. Every prefix of every built set is kept,
// so the prefixes of a composed set cost nothing more; the batch's own
// prefixes are there from the start. Safe to call from the check threads.
class HeadBuilder {
 public:
  HeadBuilder(Git& git, const SpeculativeBatch& batch, const std::vector<QueuedChange>& merged, std::string mode,
              std::function<std::string(const QueuedChange&)> message_for)
      : git_(git), merged_(merged), mode_(std::move(mode)), message_for_(std::move(message_for)) {
    heads_[{}] = batch.base;
    for (size_t i = 0; i < batch.heads.size(); ++i) heads_[FirstChanges(static_cast<int>(i) + 1)] = batch.heads[i].head;
  }

  struct Built {
    std::string head;
    int unmerged = 0;  // the member that did not merge (its set has no head)
  };

  Result<Built> Build(const CheckMembers& members) {
    size_t have = members.size();
    std::string tip;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (;; --have) {
        auto it = heads_.find(CheckMembers(members.begin(), members.begin() + have));
        if (it != heads_.end()) {
          tip = it->second;
          break;
        }
      }
    }
    for (size_t j = have; j < members.size(); ++j) {
      const QueuedChange& q = merged_[members[j] - 1];
      const std::string message = message_for_(q);
      auto next = j == 0 && !q.alone_tree.empty() ? git_.CommitOnto(mode_, q.alone_tree, tip, message, message)
                                                  : git_.SquashOrMergeCommit(mode_, tip, q.commit, message);
      if (!next.ok()) {
        if (next.kind() != ErrorKind::kConflict) return next.error();
        return Built{"", members[j]};
      }
      tip = *next;
      std::lock_guard<std::mutex> lock(mu_);
      heads_[CheckMembers(members.begin(), members.begin() + j + 1)] = tip;
    }
    return Built{tip, 0};
  }

  // The commits of a built set's changes, one per change, in order.
  std::vector<std::string> Chain(const CheckMembers& members) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (size_t j = 1; j <= members.size(); ++j) out.push_back(heads_.at(CheckMembers(members.begin(), members.begin() + j)));
    return out;
  }

 private:
  Git& git_;
  const std::vector<QueuedChange>& merged_;
  std::string mode_;
  std::function<std::string(const QueuedChange&)> message_for_;
  std::mutex mu_;
  std::map<CheckMembers, std::string> heads_;
};

// What a batch's checks decided, whichever plan asked them.
struct Decision {
  CheckMembers land;                        // in queue order
  std::map<int, std::string> culprits;      // change -> the output of the check that proves it fails
  bool base_red = false;
  std::string base_output;
  bool base_seen_green = false;
};

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
  const bool base_green = !req.base_green_commit.empty() && req.base_green_commit == out.old_base;
  HeadBuilder heads(git, batch, merged, req.mode, message_for);
  Decision d;
  if (k > 0) {
    std::map<CheckMembers, CheckResult> results;
    // One round: each set's head built and checked on a thread of its own
    // (at most `parallel`), in its own scratch worktree.
    auto run_round = [&](const std::vector<CheckMembers>& sets) -> Result<std::vector<HeadBuilder::Built>> {
      const auto started = std::chrono::steady_clock::now();
      std::vector<std::future<Result<std::pair<HeadBuilder::Built, CheckResult>>>> running;
      for (size_t s = 0; s < sets.size(); ++s) {
        CheckMembers m = sets[s];
        std::vector<VerifyCommand> cmds = ChecksOf(req, merged, m);
        running.push_back(std::async(std::launch::async, [&heads, &check, s, m, cmds]()
                                                             -> Result<std::pair<HeadBuilder::Built, CheckResult>> {
          PL_ASSIGN_OR_RETURN(HeadBuilder::Built b, heads.Build(m));
          if (b.unmerged) return std::make_pair(b, CheckResult{});
          PL_ASSIGN_OR_RETURN(CheckResult r, check(static_cast<int>(s), b.head, cmds));
          return std::make_pair(b, std::move(r));
        }));
      }
      PL_ASSIGN_OR_RETURN(auto answers, WaitForAll(running));
      std::vector<HeadBuilder::Built> built;
      for (size_t s = 0; s < sets.size(); ++s) {
        if (!answers[s].first.unmerged) ++out.checks_run;
        built.push_back(answers[s].first);
        results[sets[s]] = std::move(answers[s].second);
      }
      Log("checked {} head{} of the batch at once in {} ms", sets.size(), sets.size() == 1 ? "" : "s",
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
      return built;
    };
    if (req.parallel >= kIsolateFromParallel && k > 1) {
      IsolationPlan plan(k, req.parallel, base_green);
      while (!plan.Done()) {
        std::vector<CheckMembers> next = plan.NextChecks();
        if (next.empty()) {
          if (plan.Done()) break;
          return Error{ErrorKind::kIO, "merge queue: the batch plan stalled"};
        }
        PL_ASSIGN_OR_RETURN(std::vector<HeadBuilder::Built> built, run_round(next));
        for (size_t s = 0; s < next.size(); ++s)
          plan.Record(next[s], built[s].unmerged ? CheckOutcome::kUnbuildable
                               : results[next[s]].passed ? CheckOutcome::kPassed
                                                         : CheckOutcome::kFailed,
                      built[s].unmerged);
      }
      IsolationVerdict v = plan.Verdict();
      d.base_seen_green = base_green || plan.BaseSeenGreen();
      d.base_red = v.base_red;
      d.land = v.land;
      for (const auto& [i, m] : v.culprits) d.culprits[i] = results[m].output_tail;
    } else {
      BatchPlan plan(k, req.parallel, base_green);
      while (!plan.Done()) {
        std::vector<int> next = plan.NextChecks();
        if (next.empty()) return Error{ErrorKind::kIO, "merge queue: the batch plan stalled"};
        std::vector<CheckMembers> sets;
        for (int p : next) sets.push_back(FirstChanges(p));
        PL_RETURN_IF_ERROR(run_round(sets).status());
        for (size_t s = 0; s < next.size(); ++s) plan.Record(next[s], results[sets[s]].passed);
      }
      BatchVerdict v = plan.Verdict();
      auto base_known = plan.results().find(0);
      d.base_seen_green = base_known != plan.results().end() && base_known->second;
      d.base_red = v.base_red;
      d.land = FirstChanges(v.land);
      if (v.culprit) d.culprits[*v.culprit] = results[FirstChanges(*v.culprit)].output_tail;
    }
    if (d.base_red) d.base_output = results[{}].output_tail;  // the base alone's check
  }
  if (d.base_seen_green) out.green_base = out.old_base;
  if (d.base_red) {
    out.base_red = true;
    out.base_output = d.base_output;
  } else if (k > 0) {
    for (const auto& [i, output] : d.culprits)
      by_task[merged[i - 1].task_id] = {merged[i - 1].task_id, BatchChangeOutcome::Kind::kCheckFailed, "", output};
    if (!d.land.empty()) {
      PL_ASSIGN_OR_RETURN(HeadBuilder::Built tip, heads.Build(d.land));  // built and checked already
      if (tip.unmerged) return Error{ErrorKind::kIO, "merge queue: the checked head of the batch is gone"};
      if (hooks.before_advance) PL_RETURN_IF_ERROR(hooks.before_advance(out.old_base, tip.head));
      Status moved = git.CompareAndSwapRef(ref, tip.head, out.old_base);
      if (!moved.ok()) {
        if (moved.kind() != ErrorKind::kConflict) return moved.error();
        out.lost_race = true;  // every change goes back to the queue, the culprits included
        out.green_base.clear();
        for (auto& [id, o] : by_task)
          if (o.kind == BatchChangeOutcome::Kind::kCheckFailed) o = {id, BatchChangeOutcome::Kind::kRequeued, "", ""};
      } else {
        out.new_base = tip.head;
        out.green_base = out.new_base;
        std::vector<std::string> chain = heads.Chain(d.land);
        for (size_t j = 0; j < d.land.size(); ++j) {
          const std::string& id = merged[d.land[j] - 1].task_id;
          by_task[id] = {id, BatchChangeOutcome::Kind::kLanded, chain[j], ""};
        }
      }
    }
  }
  for (const QueuedChange& q : req.changes) out.changes.push_back(by_task[q.task_id]);
  return out;
}

}  // namespace pipeline
