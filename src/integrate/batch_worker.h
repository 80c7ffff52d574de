// The batched merge-queue worker (`pipeline integrate-batch`): up to
// integrate.batch_max verified task branches merged in memory onto the base
// tip, checked together (RunBatch: the batch tip first, bisection when it is
// red), and the base moved to the longest verified prefix in one
// compare-and-set. Like the one-task worker it never changes the store: it
// prints one JSON line per change and a summary line last, and the
// scheduler applies them all in one transaction.
//
// Before the batch is built each change is looked at alone: a branch with no
// commit of its own is `empty`; a branch whose changes the base already holds
// (a batch killed after its ref moved, redone) is `integrated` with
// "already", so a restart never merges a change twice.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/verify.h"
#include "git/git.h"
#include "integrate/batch.h"
#include "proc/process.h"
#include "store/root.h"

namespace pipeline {

struct BatchTask {
  std::string task_id, title;
  std::vector<VerifyCommand> checks;             // its domain's check; empty: none
  std::map<std::string, std::string> check_env;  // PIPELINE_TASK_ID, _NAMESPACE, _DOMAIN, ...
};

struct BatchWorkRequest {
  std::vector<BatchTask> tasks;  // queue order
  std::string base;
  std::string mode = "squash";
  int parallel = 1;
  std::string green_base;    // the base tip last seen passing (empty: unknown)
  bool recheck_base = false;  // check the base tip alone first (it was red)
  int64_t lock_wait_ms = 0;
};

// One change's answer, as printed: {"task":ID,"outcome":...}.
struct BatchTaskResult {
  std::string task_id;
  std::string outcome;  // integrated | conflict | check-failed | empty | requeued
  std::string commit;   // integrated
  bool already = false;
  std::vector<std::string> files;  // conflict
  std::string detail;   // conflict: git's words; check-failed: the output tail; empty: why
  nlohmann::json ToJson() const;
};

struct BatchWorkResult {
  // "batch" (the results below hold), "waiting" (nothing done), "error".
  std::string outcome = "error";
  std::string reason;  // waiting / error
  std::vector<BatchTaskResult> tasks;
  std::string old_base, new_base, green_base;
  bool base_red = false;
  std::string base_output;
  int checks_run = 0, landed = 0;
  nlohmann::json SummaryJson() const;
  int ExitCode() const;
};

struct BatchWorkHooks {
  std::function<void()> before_ref;  // after the checks, the journal written, before the ref moves
  std::function<void()> after_ref;   // after the ref moved, before the checkout follows
};

class BatchIntegrator {
 public:
  BatchIntegrator(Git& git, ProcessRunner& runner, RootPaths paths);
  BatchWorkResult Run(const BatchWorkRequest& req, const BatchWorkHooks& hooks = {});

 private:
  Result<std::optional<BatchWorkResult>> Attempt(const BatchWorkRequest& req, const BatchWorkHooks& hooks);
  Git& git_;
  ProcessRunner& runner_;
  RootPaths paths_;
};

}  // namespace pipeline
