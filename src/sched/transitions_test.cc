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

}  // namespace
}  // namespace pipeline
