// The task state machine's decisions, as pure functions of what a run
// reported and the task's history: which status comes next, what the retry
// counter and back-off become, and what to say. The scheduler applies the
// decision in one transaction; keeping the decision here lets the rules be
// tested without processes or a store.
#pragma once

#include <cstdint>
#include <string>

#include "agent/run_record.h"
#include "sched/scheduler_options.h"
#include "util/clock.h"

namespace pipeline {

enum class NextStep {
  kVerify,          // dev run committed: verify it
  kPromote,         // to verified (or review): verification passed or was skipped
  kReview,          // --after-run review: every finished dev run goes to review
  kNeedsHelp,       // a person must look: a question, or the caps were reached
  kRetry,           // back to open with back-off, counted as a failure
  kRetryUncounted,  // back to open at once (the run never started, or the cluster lost it)
  kReject,          // back to open as a new patchset, with feedback
};

const char* NextStepName(NextStep s);

struct Decision {
  NextStep next = NextStep::kRetry;
  std::string reason;      // one line, for the comment and the event
  int64_t retries = 0;     // the task's retry counter after the decision
  Micros not_before = 0;   // for kRetry and kReject: not started again before this
};

struct DevRunFacts {
  RunStatus status = RunStatus::kFailed;
  bool has_commit = false;
  bool never_started = false;     // error "never started": the scheduler died before starting it
  bool lost_by_cluster = false;   // a "cluster: " error (NODE_FAIL, PREEMPTED): the machine failed, not the run
  int64_t cluster_losses = 0;     // runs of the task the cluster lost so far, this one included
  int64_t retries = 0;            // the task's counter before this run
  double task_cost_cents = 0;     // every run of the task so far, this one included
  Micros now = 0;
  std::string error;              // the run's own error ("agent exited with code 2: …"), if any
};

// Runs of one task the cluster may lose before a loss counts as a failure:
// a cluster that fails every job must not retry it for ever.
inline constexpr int64_t kMaxUncountedClusterLosses = 10;

// The reason of a run that ended asking a person a question (not a failure).
inline constexpr const char* kAskedAQuestion = "the agent asked a question";

Decision DecideAfterDev(const SchedulerOptions& o, const DevRunFacts& f);

// The failure branch alone (also used when a run could not be started).
Decision DecideFailure(const SchedulerOptions& o, int64_t retries, double task_cost_cents, Micros now,
                       const std::string& why);

// After a patchset was rejected (verification or integration failed) and the
// task re-opened as patchset `patchset` (the count of rejected patchsets so
// far): kReject with the same back-off as a failed run (patchset standing in
// for the retry count), or kNeedsHelp at max_patchsets or past the task's cost
// cap. A needs-help task a person answers is re-opened with its counters as
// they were, so the answer buys one more patchset (and, past the cost cap,
// one more run).
Decision DecideReject(const SchedulerOptions& o, int64_t patchset, double task_cost_cents, Micros now);

}  // namespace pipeline
