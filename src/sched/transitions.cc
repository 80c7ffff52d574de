#include "sched/transitions.h"

#include <cmath>

namespace pipeline {

const char* NextStepName(NextStep s) {
  switch (s) {
    case NextStep::kVerify: return "verify";
    case NextStep::kPromote: return "promote";
    case NextStep::kReview: return "review";
    case NextStep::kNeedsHelp: return "needs-help";
    case NextStep::kRetry: return "retry";
    case NextStep::kRetryUncounted: return "retry-uncounted";
    case NextStep::kReject: return "reject";
  }
  return "?";
}

Decision DecideFailure(const SchedulerOptions& o, int64_t retries, double task_cost_cents, Micros now,
                       const std::string& why) {
  Decision d;
  d.retries = retries + 1;
  if (d.retries >= o.max_retries) {
    d.next = NextStep::kNeedsHelp;
    d.reason = why + "; exceeded " + std::to_string(o.max_retries) + " retries";
    return d;
  }
  if (o.max_task_cost_cents > 0 && task_cost_cents >= static_cast<double>(o.max_task_cost_cents)) {
    d.next = NextStep::kNeedsHelp;
    d.reason = why + "; exceeded cost cap of " + std::to_string(o.max_task_cost_cents) + "c (spent " +
               std::to_string(static_cast<int64_t>(std::ceil(task_cost_cents))) + "c)";
    return d;
  }
  d.next = NextStep::kRetry;
  d.not_before = now + BackoffMicros(o.backoff_base_s, d.retries);
  d.reason = why + "; retry " + std::to_string(d.retries) + "/" + std::to_string(o.max_retries) + " after " +
             std::to_string(BackoffMicros(o.backoff_base_s, d.retries) / 1'000'000) + " s";
  return d;
}

Decision DecideAfterDev(const SchedulerOptions& o, const DevRunFacts& f) {
  Decision d;
  d.retries = f.retries;
  if (f.never_started) {
    d.next = NextStep::kRetryUncounted;
    d.reason = "the run never started";
    return d;
  }
  if (o.after_run == AfterRun::kReview) {
    d.next = NextStep::kReview;
    d.reason = std::string("run ended ") + RunStatusName(f.status);
    return d;
  }
  if (f.status == RunStatus::kDone && f.has_commit) {
    d.next = NextStep::kVerify;
    d.reason = "new commit on the task branch";
    return d;
  }
  if (f.status == RunStatus::kNeedsInput && !f.has_commit) {
    d.next = NextStep::kNeedsHelp;
    d.reason = "the agent asked a question";
    return d;
  }
  if ((f.status == RunStatus::kDone || f.status == RunStatus::kNeedsInput) && f.has_commit) {
    d.next = NextStep::kVerify;
    d.reason = "new commit on the task branch";
    return d;
  }
  std::string why = f.status == RunStatus::kDone ? "no commit" : std::string("run ") + RunStatusName(f.status);
  return DecideFailure(o, f.retries, f.task_cost_cents, f.now, why);
}

}  // namespace pipeline
