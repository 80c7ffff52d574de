#include "sched/transitions.h"

#include <cmath>

#include "util/text.h"

namespace pipeline {

namespace {

// The cost cap's reason, or empty when the task is within it.
std::string OverCostCap(const SchedulerOptions& o, double task_cost_cents) {
  int64_t cap = o.MaxTaskCostCents();
  if (cap <= 0 || task_cost_cents < static_cast<double>(cap)) return "";
  return "exceeded cost cap of " + std::to_string(cap) + "c (spent " +
         std::to_string(static_cast<int64_t>(std::ceil(task_cost_cents))) + "c)";
}

}  // namespace

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
  if (std::string cap = OverCostCap(o, task_cost_cents); !cap.empty()) {
    d.next = NextStep::kNeedsHelp;
    d.reason = why + "; " + cap;
    return d;
  }
  d.next = NextStep::kRetry;
  d.not_before = now + BackoffMicros(o.backoff_base_s, d.retries);
  d.reason = why + "; retry " + std::to_string(d.retries) + "/" + std::to_string(o.max_retries) + " after " +
             std::to_string(BackoffMicros(o.backoff_base_s, d.retries) / 1'000'000) + " s";
  return d;
}

Decision DecideReject(const SchedulerOptions& o, int64_t patchset, double task_cost_cents, Micros now) {
  Decision d;
  if (patchset >= o.max_patchsets) {
    d.next = NextStep::kNeedsHelp;
    d.reason = std::to_string(patchset) + " patchsets were rejected (limit " + std::to_string(o.max_patchsets) + ")";
    return d;
  }
  if (std::string cap = OverCostCap(o, task_cost_cents); !cap.empty()) {
    d.next = NextStep::kNeedsHelp;
    d.reason = "patchset " + std::to_string(patchset) + " rejected; " + cap;
    return d;
  }
  d.next = NextStep::kReject;
  int64_t wait = BackoffMicros(o.backoff_base_s, patchset);
  d.not_before = now + wait;
  d.reason = "patchset " + std::to_string(patchset) + "/" + std::to_string(o.max_patchsets) + " after " +
             std::to_string(wait / 1'000'000) + " s";
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
  if (f.lost_by_cluster && f.cluster_losses <= kMaxUncountedClusterLosses) {
    // Not the task's fault: the attempt is not counted. Its cost, if any,
    // is still spent (the harvest settles it).
    d.next = NextStep::kRetryUncounted;
    d.reason = "the cluster lost the run";
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
    d.reason = kAskedAQuestion;
    return d;
  }
  if ((f.status == RunStatus::kDone || f.status == RunStatus::kNeedsInput) && f.has_commit) {
    d.next = NextStep::kVerify;
    d.reason = "new commit on the task branch";
    return d;
  }
  std::string why = f.status == RunStatus::kDone ? "no commit" : std::string("run ") + RunStatusName(f.status);
  // The run's own words, so the log line, the needs-help reason and `status`
  // say why ("run failed: agent exited with code 3: …"), not only that.
  if (f.status != RunStatus::kDone && !f.error.empty()) why += ": " + Trim(SingleLine(TruncateUtf8(f.error, 200)));
  if (f.lost_by_cluster)
    why = "the cluster lost " + std::to_string(f.cluster_losses) + " runs of this task; counted from the " +
          std::to_string(kMaxUncountedClusterLosses + 1) + "th on";
  return DecideFailure(o, f.retries, f.task_cost_cents, f.now, why);
}

}  // namespace pipeline
