#include "sched/transitions.h"

#include <gtest/gtest.h>

namespace pipeline {
namespace {

constexpr Micros kNow = 1'790'000'000'000'000;

DevRunFacts Facts(RunStatus st, bool commit, int64_t retries = 0, double cost = 0) {
  DevRunFacts f;
  f.status = st;
  f.has_commit = commit;
  f.retries = retries;
  f.task_cost_cents = cost;
  f.now = kNow;
  return f;
}

TEST(DecideAfterDev, CommitGoesToVerify) {
  SchedulerOptions o;
  EXPECT_EQ(DecideAfterDev(o, Facts(RunStatus::kDone, true)).next, NextStep::kVerify);
}

TEST(DecideAfterDev, QuestionWithoutCommitNeedsHelp) {
  SchedulerOptions o;
  EXPECT_EQ(DecideAfterDev(o, Facts(RunStatus::kNeedsInput, false)).next, NextStep::kNeedsHelp);
}

TEST(DecideAfterDev, NoCommitIsAFailureWithBackoff) {
  SchedulerOptions o;
  o.backoff_base_s = 30;
  Decision d = DecideAfterDev(o, Facts(RunStatus::kDone, false, 1));
  EXPECT_EQ(d.next, NextStep::kRetry);
  EXPECT_EQ(d.retries, 2);
  EXPECT_EQ(d.not_before, kNow + 120'000'000);  // 30 * 2^2
  EXPECT_NE(d.reason.find("no commit"), std::string::npos);
}

TEST(DecideAfterDev, RetryCapAndCostCapNeedHelp) {
  SchedulerOptions o;
  o.max_retries = 3;
  EXPECT_EQ(DecideAfterDev(o, Facts(RunStatus::kFailed, false, 1)).next, NextStep::kRetry);
  Decision capped = DecideAfterDev(o, Facts(RunStatus::kTimeout, false, 2));
  EXPECT_EQ(capped.next, NextStep::kNeedsHelp);
  EXPECT_EQ(capped.retries, 3);
  o.max_task_cost_cents = 100;
  EXPECT_EQ(DecideAfterDev(o, Facts(RunStatus::kOverBudget, false, 0, 99.5)).next, NextStep::kRetry);
  Decision costly = DecideAfterDev(o, Facts(RunStatus::kFailed, false, 0, 100));
  EXPECT_EQ(costly.next, NextStep::kNeedsHelp);
  EXPECT_NE(costly.reason.find("cost cap"), std::string::npos);
}

TEST(DecideAfterDev, AFailureSaysTheRunsOwnError) {
  SchedulerOptions o;
  o.max_retries = 3;
  DevRunFacts f = Facts(RunStatus::kFailed, false, 0);
  f.error = "agent exited with code 3: unknown task\nsecond line";
  Decision retry = DecideAfterDev(o, f);
  EXPECT_EQ(retry.next, NextStep::kRetry);
  EXPECT_NE(retry.reason.find("run failed: agent exited with code 3: unknown task second line"), std::string::npos)
      << retry.reason;
  f.retries = 2;
  Decision help = DecideAfterDev(o, f);
  EXPECT_EQ(help.next, NextStep::kNeedsHelp);
  EXPECT_NE(help.reason.find("agent exited with code 3"), std::string::npos) << help.reason;
  // A run that ended well but made no commit has no error to quote.
  DevRunFacts done = Facts(RunStatus::kDone, false, 0);
  done.error = "ignored";
  EXPECT_EQ(DecideAfterDev(o, done).reason.find("ignored"), std::string::npos);
}

TEST(DecideAfterDev, NeverStartedIsNotCounted) {
  SchedulerOptions o;
  DevRunFacts f = Facts(RunStatus::kFailed, false, 2);
  f.never_started = true;
  Decision d = DecideAfterDev(o, f);
  EXPECT_EQ(d.next, NextStep::kRetryUncounted);
  EXPECT_EQ(d.retries, 2);
}

TEST(DecideAfterDev, ReviewModeSendsEverythingToReview) {
  SchedulerOptions o;
  o.after_run = AfterRun::kReview;
  EXPECT_EQ(DecideAfterDev(o, Facts(RunStatus::kFailed, false)).next, NextStep::kReview);
  EXPECT_EQ(DecideAfterDev(o, Facts(RunStatus::kDone, true)).next, NextStep::kReview);
}

TEST(DecideAfterDev, TaskCostCapDefaultsToAFewRunHolds) {
  SchedulerOptions o;
  o.max_retries = 100;
  o.reserve_cents = 50;
  int64_t cap = SchedulerOptions::kTaskCostHolds * 50;
  EXPECT_EQ(o.MaxTaskCostCents(), cap);
  EXPECT_EQ(DecideAfterDev(o, Facts(RunStatus::kFailed, false, 0, static_cast<double>(cap) - 1)).next, NextStep::kRetry);
  EXPECT_EQ(DecideAfterDev(o, Facts(RunStatus::kFailed, false, 0, static_cast<double>(cap))).next, NextStep::kNeedsHelp);
  o.max_task_cost_cents = 0;  // switched off
  EXPECT_EQ(DecideAfterDev(o, Facts(RunStatus::kFailed, false, 0, 1e9)).next, NextStep::kRetry);
}

TEST(DecideReject, RejectedPatchsetsBackOffLikeFailedRuns) {
  SchedulerOptions o;
  o.backoff_base_s = 30;
  o.max_patchsets = 10;
  o.max_task_cost_cents = 0;
  Decision first = DecideReject(o, 1, 0, kNow);
  EXPECT_EQ(first.next, NextStep::kReject);
  EXPECT_EQ(first.not_before, kNow + BackoffMicros(30, 1));
  EXPECT_EQ(first.not_before, DecideFailure(o, 0, 0, kNow, "x").not_before);
  Decision third = DecideReject(o, 3, 0, kNow);
  EXPECT_EQ(third.not_before, kNow + 240'000'000);  // 30 * 2^3
  EXPECT_EQ(DecideReject(o, 9, 0, kNow).not_before, kNow + 600'000'000);  // capped
}

TEST(DecideReject, PatchsetLimitAndCostCapNeedHelp) {
  SchedulerOptions o;
  o.max_patchsets = 3;
  o.reserve_cents = 100;
  Decision limit = DecideReject(o, 3, 0, kNow);
  EXPECT_EQ(limit.next, NextStep::kNeedsHelp);
  EXPECT_EQ(limit.reason, "3 patchsets were rejected (limit 3)");
  Decision costly = DecideReject(o, 1, 400, kNow);  // the default cap: 4 holds of 100c
  EXPECT_EQ(costly.next, NextStep::kNeedsHelp);
  EXPECT_NE(costly.reason.find("cost cap of 400c"), std::string::npos);
  EXPECT_EQ(DecideReject(o, 1, 399, kNow).next, NextStep::kReject);
}

}  // namespace
}  // namespace pipeline
