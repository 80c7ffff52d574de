// What the scheduler does when a dev run ends: settle its hold, verify a
// commit, retry a failure after a back-off, stop at the caps, ask for help,
// and reopen a task a person answered. Fake launcher, fake clock.
#include <gtest/gtest.h>

#include "sched/sched_testing.h"

namespace pipeline {
namespace {

using sched_testing::SchedWorld;
using sched_testing::TestOptions;

// A world with one task in domain "a" whose first dev run is out.
struct OneTask {
  explicit OneTask(SchedulerOptions o = TestOptions()) : w(o) {
    w.SetBudget("a", 10000);
    id = w.AddTask("a");
    EXPECT_TRUE(w.Start().ok());
    w.Step();
    run = w.OnlyRun(id, "dev");
  }
  SchedWorld w;
  std::string id, run;
};

TEST(SchedulerRuns, TheHoldIsSettledAtTheRunsCost) {
  OneTask x;
  ASSERT_TRUE(x.w.launcher->FinishDev(x.run, RunStatus::kFailed, 37, false).ok());
  x.w.Step();
  DomainReport b = x.w.Budget("a");
  EXPECT_EQ(b.spent_cents, 37);
  EXPECT_EQ(b.held_cents, 0);
  EXPECT_EQ(x.w.Count("SELECT COUNT(*) FROM holds WHERE run_id = '" + x.run + "' AND state = 'settled'"), 1);
  EXPECT_EQ(x.w.Count("SELECT cents FROM ledger WHERE kind = 'spend' AND run_id = '" + x.run + "'"), 37);
  EXPECT_TRUE(x.w.Run(x.run).harvested_at.has_value());
}

TEST(SchedulerRuns, ACommitIsVerified) {
  OneTask x;
  ASSERT_TRUE(x.w.launcher->FinishDev(x.run, RunStatus::kDone, 20, true).ok());
  StepResult r = x.w.Step();
  EXPECT_EQ(r.harvested, 1);
  EXPECT_EQ(x.w.StatusOf(x.id), "in-progress");
  std::string verify = x.w.OnlyRun(x.id, "verify");
  RunRecord v = x.w.Run(verify);
  EXPECT_EQ(v.argv, (std::vector<std::string>{"make", "check"}));
  EXPECT_EQ(v.patchset, 0);
}

TEST(SchedulerRuns, DoneWithoutACommitIsAFailure) {
  OneTask x;
  ASSERT_TRUE(x.w.launcher->FinishDev(x.run, RunStatus::kDone, 20, false).ok());
  x.w.Step();
  Task t = x.w.GetTask(x.id);
  EXPECT_EQ(TaskStatusName(t.status), std::string("open"));
  EXPECT_EQ(t.retries, 1);
  EXPECT_TRUE(x.w.RunsOf(x.id, "verify").empty());
}

TEST(SchedulerRuns, AFailureWaitsForItsBackoff) {
  OneTask x;
  Micros ended = x.w.clock.Now();
  ASSERT_TRUE(x.w.launcher->FinishDev(x.run, RunStatus::kFailed, 5, false).ok());
  StepResult r = x.w.Step();
  Task t = x.w.GetTask(x.id);
  EXPECT_EQ(t.retries, 1);
  EXPECT_EQ(t.not_before, ended + BackoffMicros(30, 1));
  ASSERT_TRUE(r.next_wake.has_value());
  EXPECT_EQ(*r.next_wake, t.not_before) << "the loop is told when to wake";
  EXPECT_EQ(r.started, 0);
  x.w.clock.Advance(BackoffMicros(30, 1) - 1);
  EXPECT_EQ(x.w.Step().started, 0) << "one microsecond early";
  x.w.clock.Advance(1);
  EXPECT_EQ(x.w.Step().started, 1);
  EXPECT_EQ(x.w.StatusOf(x.id), "in-progress");
}

TEST(SchedulerRuns, TheBackoffGrowsWithEachRetry) {
  OneTask x;
  for (int i = 1; i <= 2; ++i) {
    std::string run = x.w.OnlyRun(x.id, "dev");
    Micros at = x.w.clock.Now();
    ASSERT_TRUE(x.w.launcher->FinishDev(run, RunStatus::kFailed, 1, false).ok());
    x.w.Step();
    EXPECT_EQ(x.w.GetTask(x.id).not_before, at + BackoffMicros(30, i));
    x.w.clock.Advance(BackoffMicros(30, i));
    x.w.Step();
  }
  EXPECT_GT(BackoffMicros(30, 2), BackoffMicros(30, 1));
}

TEST(SchedulerRuns, ATimeoutCountsAsAFailure) {
  OneTask x;
  ASSERT_TRUE(x.w.launcher->FinishDev(x.run, RunStatus::kTimeout, 100, false).ok());
  x.w.Step();
  Task t = x.w.GetTask(x.id);
  EXPECT_EQ(t.retries, 1);
  EXPECT_EQ(TaskStatusName(t.status), std::string("open"));
  EXPECT_EQ(x.w.Budget("a").spent_cents, 100);
}

TEST(SchedulerRuns, OverBudgetCountsAsAFailure) {
  OneTask x;
  ASSERT_TRUE(x.w.launcher->FinishDev(x.run, RunStatus::kOverBudget, 100, false).ok());
  x.w.Step();
  EXPECT_EQ(x.w.GetTask(x.id).retries, 1);
  EXPECT_EQ(x.w.Count("SELECT COUNT(*) FROM events WHERE kind = 'failure' AND detail LIKE '%over-budget%'"), 1);
}

TEST(SchedulerRuns, RetriesExhaustedNeedHelp) {
  SchedulerOptions o = TestOptions();
  o.max_retries = 2;
  o.backoff_base_s = 0;
  OneTask x(o);
  ASSERT_TRUE(x.w.launcher->FinishDev(x.run, RunStatus::kFailed, 1, false).ok());
  x.w.Step();  // retry 1 of 2, started again at once (no back-off)
  std::string second = x.w.OnlyRun(x.id, "dev");
  ASSERT_NE(second, x.run);
  ASSERT_TRUE(x.w.launcher->FinishDev(second, RunStatus::kFailed, 1, false).ok());
  StepResult r = x.w.Step();
  EXPECT_EQ(r.started, 0);
  EXPECT_EQ(x.w.StatusOf(x.id), "needs-help");
  EXPECT_TRUE(x.w.RunsOf(x.id).empty());
}

TEST(SchedulerRuns, TheTaskCostCapNeedsHelp) {
  SchedulerOptions o = TestOptions();
  o.max_task_cost_cents = 150;
  o.backoff_base_s = 0;
  OneTask x(o);
  ASSERT_TRUE(x.w.launcher->FinishDev(x.run, RunStatus::kFailed, 90, false).ok());
  x.w.Step();
  EXPECT_EQ(x.w.StatusOf(x.id), "in-progress") << "90c of 150c: retried";
  ASSERT_TRUE(x.w.launcher->FinishDev(x.w.OnlyRun(x.id, "dev"), RunStatus::kFailed, 90, false).ok());
  x.w.Step();
  EXPECT_EQ(x.w.StatusOf(x.id), "needs-help") << "180c is past the cap";
  EXPECT_EQ(x.w.Budget("a").spent_cents, 180);
}

TEST(SchedulerRuns, AQuestionNeedsHelpAndAnAnswerReopens) {
  OneTask x;
  ASSERT_TRUE(x.w.launcher->FinishDev(x.run, RunStatus::kNeedsInput, 12, false).ok());
  x.w.Step();
  EXPECT_EQ(x.w.StatusOf(x.id), "needs-help");
  EXPECT_EQ(x.w.Step().reopened, 0) << "nobody answered yet";
  x.w.Answer(x.id);
  StepResult r = x.w.Step();
  EXPECT_EQ(r.reopened, 1);
  EXPECT_EQ(r.started, 1) << "reopened and started in the same step";
  EXPECT_EQ(x.w.GetTask(x.id).retries, 0);
  std::string next = x.w.OnlyRun(x.id, "dev");
  auto prompt = ReadFile(x.w.Run(next).prompt_path);
  ASSERT_TRUE(prompt.ok());
  EXPECT_NE(prompt->find("use the other API"), std::string::npos) << "the answer is in the next prompt";
}

TEST(SchedulerRuns, AHumanCommentBeforeTheRunEndedIsNotAnAnswer) {
  OneTask x;
  x.w.Answer(x.id, "early remark");
  x.w.clock.Advance(1000);
  ASSERT_TRUE(x.w.launcher->FinishDev(x.run, RunStatus::kNeedsInput, 12, false).ok());
  x.w.Step();
  EXPECT_EQ(x.w.StatusOf(x.id), "needs-help");
  EXPECT_EQ(x.w.Step().reopened, 0);
}

TEST(SchedulerRuns, AQuestionWithACommitIsVerified) {
  OneTask x;
  ASSERT_TRUE(x.w.launcher->FinishDev(x.run, RunStatus::kNeedsInput, 12, true).ok());
  x.w.Step();
  EXPECT_EQ(x.w.RunsOf(x.id, "verify").size(), 1u);
}

TEST(SchedulerRuns, CommitsFromAnEarlierRunOnTheBranchCount) {
  OneTask x;
  x.w.repo.AddCommit(x.id);  // already on the branch; this run adds nothing
  ASSERT_TRUE(x.w.launcher->FinishDev(x.run, RunStatus::kDone, 12, false).ok());
  x.w.Step();
  EXPECT_EQ(x.w.RunsOf(x.id, "verify").size(), 1u);
}

TEST(SchedulerRuns, ADeadWorkerIsAFailure) {
  OneTask x;
  x.w.launcher->Crash(x.run);
  x.w.Step();
  RunRecord r = x.w.Run(x.run);
  EXPECT_EQ(r.status, RunStatus::kFailed);
  EXPECT_EQ(r.error.value_or(""), "monitor died");
  EXPECT_EQ(x.w.GetTask(x.id).retries, 1) << "it had started: counted";
  EXPECT_EQ(x.w.Budget("a").held_cents, 0);
}

TEST(SchedulerRuns, AKilledRunIsAFailure) {
  OneTask x;
  ASSERT_TRUE(x.w.sched->launcher().Kill(x.run).ok());
  x.w.Step();
  EXPECT_EQ(x.w.Run(x.run).status, RunStatus::kKilled);
  EXPECT_EQ(x.w.GetTask(x.id).retries, 1);
  EXPECT_EQ(x.w.sched->launcher().Kill(x.run).kind(), ErrorKind::kRefused) << "it already ended";
}

TEST(SchedulerRuns, ATaskMovedByAPersonMeanwhileIsLeftThere) {
  OneTask x;
  x.w.SetStatus(x.id, TaskStatus::kReview);
  ASSERT_TRUE(x.w.launcher->FinishDev(x.run, RunStatus::kDone, 5, true).ok());
  x.w.Step();
  EXPECT_EQ(x.w.StatusOf(x.id), "review");
  EXPECT_TRUE(x.w.RunsOf(x.id, "verify").empty());
  EXPECT_EQ(x.w.Budget("a").spent_cents, 5) << "the run is still paid for";
}

TEST(SchedulerRuns, AfterRunReviewSendsEveryRunToReview) {
  SchedulerOptions o = TestOptions();
  o.after_run = AfterRun::kReview;
  OneTask x(o);
  ASSERT_TRUE(x.w.launcher->FinishDev(x.run, RunStatus::kFailed, 5, false).ok());
  x.w.Step();
  EXPECT_EQ(x.w.StatusOf(x.id), "review");
  EXPECT_TRUE(x.w.launcher->Running().empty());
}

}  // namespace
}  // namespace pipeline
