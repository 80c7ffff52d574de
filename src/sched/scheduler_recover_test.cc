// A scheduler that dies (the object dropped, the store reopened) and a new
// one built on the same store: runs are adopted, never-started runs retried
// without counting, orphaned claims reopened, stale worktrees removed.
#include <gtest/gtest.h>

#include "sched/sched_testing.h"

namespace pipeline {
namespace {

using sched_testing::SchedWorld;
using sched_testing::TestOptions;

TEST(SchedulerRecover, LiveRunsAreAdoptedAndCountAgainstTheLimits) {
  SchedWorld w;
  w.SetBudget("a", 1000);
  std::string t1 = w.AddTask("a");
  std::string t2 = w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  w.Step();
  std::string run = w.OnlyRun(t1, "dev");
  ASSERT_TRUE(w.Crash().ok());
  EXPECT_EQ(w.EventsOf("adopt"), 1);
  StepResult r = w.Step();
  EXPECT_EQ(r.active, 1);
  EXPECT_EQ(r.started, 0) << "the adopted run still holds the domain's slot";
  EXPECT_EQ(w.StatusOf(t2), "open");
  ASSERT_TRUE(w.launcher->FinishDev(run, RunStatus::kFailed, 3, false).ok());
  r = w.Step();
  EXPECT_EQ(r.harvested, 1);
  EXPECT_EQ(r.started, 1);
  EXPECT_EQ(w.Budget("a").spent_cents, 3);
}

TEST(SchedulerRecover, ARunThatEndedWhileNoSchedulerRanIsHarvestedOnce) {
  SchedWorld w;
  w.SetBudget("a", 1000);
  std::string t = w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  w.Step();
  std::string run = w.OnlyRun(t, "dev");
  w.sched.reset();
  ASSERT_TRUE(w.launcher->FinishDev(run, RunStatus::kFailed, 40, false).ok());
  ASSERT_TRUE(w.Crash().ok());
  w.Step();
  w.Step();
  EXPECT_EQ(w.GetTask(t).retries, 1);
  EXPECT_EQ(w.Budget("a").spent_cents, 40);
  EXPECT_EQ(w.Count("SELECT COUNT(*) FROM ledger WHERE kind = 'spend'"), 1);
}

TEST(SchedulerRecover, ACrashBetweenRecordingAndLaunchingRetriesWithoutCounting) {
  SchedWorld w;
  w.SetBudget("a", 1000);
  std::string t = w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  w.launcher->CrashOnLaunch(1);
  EXPECT_THROW(w.sched->Step(), SimulatedCrash);
  ASSERT_TRUE(w.Crash().ok());
  EXPECT_EQ(w.StatusOf(t), "in-progress") << "its run is recorded, not yet known to fail";
  EXPECT_EQ(w.Step().started, 0) << "the domain's slot is the unstarted run's";
  w.clock.Advance(kClaimGrace + 1);
  StepResult r = w.Step();
  EXPECT_EQ(r.harvested, 1);
  EXPECT_EQ(r.started, 1);
  EXPECT_EQ(w.GetTask(t).retries, 0) << "never started: not a failure";
  EXPECT_EQ(w.Count("SELECT COUNT(*) FROM runs WHERE error = 'never started'"), 1);
  EXPECT_EQ(w.Count("SELECT COUNT(*) FROM holds WHERE state = 'released'"), 1);
  EXPECT_EQ(w.Budget("a").spent_cents, 0);
}

TEST(SchedulerRecover, ARunTheWorkerNeverClaimedFailsAfterTheGrace) {
  SchedWorld w;
  w.SetBudget("a", 1000);
  std::string t = w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  w.launcher->LoseLaunches(true);
  w.Step();
  w.launcher->LoseLaunches(false);
  w.clock.Advance(kClaimGrace - 1);
  EXPECT_EQ(w.Step().harvested, 0) << "a late worker may still claim it";
  w.clock.Advance(2);
  StepResult r = w.Step();
  EXPECT_EQ(r.harvested, 1);
  EXPECT_EQ(r.started, 1);
  EXPECT_EQ(w.GetTask(t).retries, 0);
}

TEST(SchedulerRecover, AClaimWithoutARunIsReopened) {
  SchedWorld w;
  std::string t = w.AddTask("a");
  w.SetStatus(t, TaskStatus::kInProgress);  // claimed by a scheduler that died before recording
  ASSERT_TRUE(w.Start().ok());
  EXPECT_EQ(w.StatusOf(t), "open");
  EXPECT_EQ(w.EventsOf("recover"), 1);
}

TEST(SchedulerRecover, WorktreesOfDoneAndUnknownTasksAreRemoved) {
  SchedWorld w;
  std::string done = w.AddTask("a");
  std::string open = w.AddTask("a");
  w.SetStatus(done, TaskStatus::kDone);
  ASSERT_TRUE(w.repo.EnsureWorktree(done, "main").ok());
  ASSERT_TRUE(w.repo.EnsureWorktree(open, "main").ok());
  ASSERT_TRUE(w.repo.EnsureWorktree("t-999", "main").ok());
  ASSERT_TRUE(w.Start().ok());
  EXPECT_FALSE(w.repo.HasWorktree(done));
  EXPECT_FALSE(w.repo.HasWorktree("t-999"));
  EXPECT_TRUE(w.repo.HasWorktree(open));
}

TEST(SchedulerRecover, ABackoffSurvivesARestart) {
  SchedWorld w;
  w.SetBudget("a", 1000);
  std::string t = w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  w.Step();
  ASSERT_TRUE(w.launcher->FinishDev(w.OnlyRun(t, "dev"), RunStatus::kFailed, 1, false).ok());
  w.Step();
  Micros until = w.GetTask(t).not_before;
  ASSERT_TRUE(w.Crash().ok());
  StepResult r = w.Step();
  EXPECT_EQ(r.started, 0);
  ASSERT_TRUE(r.next_wake.has_value());
  EXPECT_EQ(*r.next_wake, until) << "the new scheduler wakes at the same time";
  w.clock.Set(until);
  EXPECT_EQ(w.Step().started, 1);
}

TEST(SchedulerRecover, AnAdoptedVerifyRunIsHarvested) {
  SchedWorld w;
  w.SetBudget("a", 1000);
  std::string t = w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  w.Step();
  ASSERT_TRUE(w.launcher->FinishDev(w.OnlyRun(t, "dev"), RunStatus::kDone, 1, true).ok());
  w.Step();
  std::string verify = w.OnlyRun(t, "verify");
  ASSERT_TRUE(w.Crash().ok());
  ASSERT_TRUE(w.launcher->FinishVerify(verify, true).ok());
  w.Step();
  EXPECT_EQ(w.StatusOf(t), "verified");
  EXPECT_EQ(w.RunsOf(t, "integrate").size(), 1u);
}

TEST(SchedulerRecover, EveryBackoffStillWakesAfterARestart) {
  // A restart learns only the earliest back-off end from the store; the
  // later ones must still wake the loop when their time comes.
  SchedWorld w;
  w.SetBudget("a", 1000);
  w.SetBudget("b", 1000);
  std::string ta = w.AddTask("a");
  std::string tb = w.AddTask("b");
  ASSERT_TRUE(w.Start().ok());
  w.Step();
  ASSERT_TRUE(w.launcher->FinishDev(w.OnlyRun(ta, "dev"), RunStatus::kFailed, 1, false).ok());
  w.Step();
  w.clock.Advance(10'000'000);
  ASSERT_TRUE(w.launcher->FinishDev(w.OnlyRun(tb, "dev"), RunStatus::kFailed, 1, false).ok());
  w.Step();
  Micros first = w.GetTask(ta).not_before, second = w.GetTask(tb).not_before;
  ASSERT_LT(first, second);
  ASSERT_TRUE(w.Crash().ok());
  w.clock.Set(first);
  StepResult r = w.Step();
  EXPECT_EQ(r.started, 1);
  EXPECT_EQ(w.StatusOf(ta), "in-progress");
  ASSERT_TRUE(r.next_wake.has_value()) << "the second back-off must still be waited for";
  EXPECT_EQ(*r.next_wake, second);
}

}  // namespace
}  // namespace pipeline
