// One batch of the merge queue, end to end: build the speculative heads,
// check what the batch plan asks (in parallel where slots allow), and move
// the base to the longest verified prefix in one compare-and-set.
//
// Crash safety rests on the last step being one atomic ref update: a kill
// before it leaves the base untouched (the batch is redone from the queue;
// the heads are unreferenced commits git collects later); a kill after it
// leaves the base holding the whole verified prefix, which the scheduler
// recognises on restart as "already in the base". Nothing between lands a
// change that was not checked.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "git/git.h"
#include "integrate/check.h"
#include "integrate/speculative.h"
#include "config/verify.h"

namespace pipeline {

// Runs the checks of one prefix head in slot's scratch directory: every
// command of the prefix's changes, passing only when all pass.
using PrefixCheck =
    std::function<Result<CheckResult>(int slot, const std::string& commit, const std::vector<VerifyCommand>& cmds)>;

// The production PrefixCheck: RunIntegrationCheck for each command in
// scratch_root/check-<slot>.
PrefixCheck ScratchWorktreeCheck(Git& git, ProcessRunner& runner, std::string scratch_root,
                                 std::map<std::string, std::string> env);

// From this many check slots on, a red batch's changes are checked in
// groups alone on the base: every failing change is found in the same
// batch. Below it there are too few slots for groups to beat halving.
constexpr int kIsolateFromParallel = 3;

struct BatchRequest {
  std::string base;  // short branch name ("main")
  std::string mode = "squash";
  std::vector<QueuedChange> changes;  // in queue order, at most integrate.batch_max
  // The checks a change needs (its domain's [verify] command); empty: none.
  std::function<std::vector<VerifyCommand>(const QueuedChange&)> checks_for;
  std::function<std::string(const QueuedChange&)> message_for;
  // Check slots. With kIsolateFromParallel or more, a red batch is searched
  // for every failing change at once (isolation_plan.h); with fewer, for
  // the first one (batch_plan.h), the rest queued again.
  int parallel = 1;
  std::string base_green_commit;  // the base tip last seen passing (empty: unknown)
};

struct BatchChangeOutcome {
  enum class Kind { kLanded, kConflict, kCheckFailed, kRequeued };
  std::string task_id;
  Kind kind = Kind::kRequeued;
  std::string commit;    // kLanded: the change's commit on the base
  std::string feedback;  // kConflict: the files; kCheckFailed: the check's output tail
};

struct BatchOutcome {
  std::string old_base, new_base;  // new_base == old_base when nothing landed
  std::vector<BatchChangeOutcome> changes;  // one per requested change, in order
  int checks_run = 0;
  bool base_red = false;     // the base itself fails: nothing lands until it is green again
  std::string base_output;   // the base's check output when red
  bool lost_race = false;    // the base moved meanwhile: nothing landed, everything requeued
  // The base tip as it stands after the batch, if it is known to pass the
  // check (the landed prefix passed, or the base itself was seen green);
  // empty when unknown or red.
  std::string green_base;
};

struct BatchHooks {
  // After the checks, before the ref moves from old_base to new_base: the
  // worker writes its journal here (and crash tests kill). An error stops
  // the batch with that error and nothing lands.
  std::function<Status(const std::string& old_base, const std::string& new_base)> before_advance;
};

Result<BatchOutcome> RunBatch(Git& git, const BatchRequest& req, const PrefixCheck& check,
                              const BatchHooks& hooks = {});

}  // namespace pipeline
