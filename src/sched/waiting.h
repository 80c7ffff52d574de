// Why each task that is not done is where it is: the one place that answers
// "why is t-7 not running?" for `pipeline status`, `status --json`, `status
// --watch` and `pipeline why`. It reads the store and decides nothing: it
// replays the scheduler's start rules (ready query, namespace, back-off,
// budget, per-domain and global limits, in candidate order) on what the store
// holds now, so its answers agree with what the next step would do.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sched/scheduler_options.h"
#include "store/db.h"
#include "util/clock.h"

namespace pipeline {

// What a task waits for. kReady: nothing (the next step starts it).
enum class WaitKind {
  kReady,
  kRunning,             // a run of it is active
  kDependency,          // a dependency is not done
  kNoNamespace,         // never scheduled
  kBackoff,             // after a failure, until not_before
  kNoBudget,            // its domain cannot hold a run's reserve
  kDomainBusy,          // its domain has max_active dev runs (or one is planned ahead of it)
  kMaxActive,           // every dev slot is taken
  kPaused,              // a person paused its domain
  kMemory,              // it would start, but the machine has less free memory than sandbox.min_free_mb
  kIntegrationQueued,   // verified, behind the merge queue
  kIntegrationWaiting,  // verified; the last integration answered `waiting`
  kReview,              // a person approves or rejects
  kNeedsPerson,         // needs-help: the question, or why it stopped
  kOrphan,              // in progress without a live run (the next run reopens it)
};
const char* WaitKindName(WaitKind k);  // "ready", "dependency", "domain-busy", ...

struct WaitReason {
  std::string task_id, title, status;  // status: the task's
  WaitKind kind = WaitKind::kReady;
  std::string reason;                  // one line for people
  nlohmann::json detail = nlohmann::json::object();  // the facts behind it, for --json
};

struct WaitingInput {
  SchedulerOptions options;
  int64_t default_budget_cents = 0;  // fund.default_budget_cents: a domain without a row starts with it
  // The scheduler's memory gate (SchedulerEnv::memory_gate): asked once, when
  // a task would start; its error ("812 MiB free, 1024 MiB kept free ...")
  // is the reason. Null: memory never refuses.
  std::function<Status()> memory_gate;
};

// One reason per work task that is not done, in this order: needs a person,
// review, integration, running, then open tasks in candidate order
// (priority, then age). Reads in one transaction.
Result<std::vector<WaitReason>> ComputeWaiting(Db& db, const WaitingInput& in, Clock& clock);

nlohmann::json WaitReasonToJson(const WaitReason& w);

}  // namespace pipeline
