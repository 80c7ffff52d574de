// A run the cluster lost (its node failed, its job was preempted) is not the
// task's failure: the scheduler runs it again without counting the attempt,
// and still spends what the run cost. Fake launcher, fake clock; the rows are
// the ones the Slurm launcher writes ("cluster: NODE_FAIL").
#include <gtest/gtest.h>

#include "agent/run_store.h"
#include "sched/launcher.h"
#include "sched/sched_testing.h"
#include "sched/transitions.h"

namespace pipeline {
namespace {

using sched_testing::SchedWorld;
using sched_testing::TestOptions;

// The row a cluster launcher writes for a job Slurm ended as `state`.
Status LoseRun(SchedWorld& w, const std::string& run_id, const std::string& state, double cost_cents) {
  RunOutcome o;
  o.status = RunStatus::kFailed;
  o.ended_at = w.clock.Now();
  o.cost_cents = cost_cents;
  o.error = std::string(kClusterErrorPrefix) + state;
  return w.person_db->Write([&] { return FinishRun(*w.person_db, run_id, o); });
}

TEST(SchedulerCluster, RunsLostByTheClusterAreRetriedWithoutCountingAgainstTheTask) {
  SchedulerOptions o = TestOptions();
  o.max_retries = 2;
  o.backoff_base_s = 30;
  SchedWorld w(o);
  w.SetBudget("a", 10000);
  std::string id = w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  w.Step();
  // More losses than the task's attempt cap: each is run again at once (no
  // back-off), the counter stays at zero, the task never needs help.
  const char* states[] = {"NODE_FAIL", "PREEMPTED", "NODE_FAIL", "BOOT_FAIL"};
  for (const char* state : states) {
    std::string run = w.OnlyRun(id, "dev");
    ASSERT_TRUE(LoseRun(w, run, state, 3).ok());
    StepResult r = w.Step();
    EXPECT_EQ(r.harvested, 1) << state;
    Task t = w.GetTask(id);
    EXPECT_EQ(t.retries, 0) << state;
    EXPECT_EQ(t.not_before, 0) << state;
    EXPECT_EQ(TaskStatusName(t.status), std::string("in-progress")) << state << ": started again in the same step";
    EXPECT_NE(w.OnlyRun(id, "dev"), run) << state;
  }
  // The lost runs' cost was spent, not released.
  EXPECT_EQ(w.Budget("a").spent_cents, 12);
  EXPECT_EQ(w.Count("SELECT COUNT(*) FROM events WHERE kind = 'harvest' AND detail LIKE 'retry-uncounted:%cluster%'"), 4);
  // A real failure afterwards still counts: the cap is intact.
  ASSERT_TRUE(w.launcher->FinishDev(w.OnlyRun(id, "dev"), RunStatus::kFailed, 1, false).ok());
  w.Step();
  EXPECT_EQ(w.GetTask(id).retries, 1);
}

TEST(SchedulerCluster, AVerifyRunLostByTheClusterIsRunAgainNotRejected) {
  SchedWorld w;
  w.SetBudget("a", 10000);
  std::string id = w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  w.Step();
  ASSERT_TRUE(w.launcher->FinishDev(w.OnlyRun(id, "dev"), RunStatus::kDone, 5, true).ok());
  w.Step();
  std::string verify = w.OnlyRun(id, "verify");
  ASSERT_TRUE(LoseRun(w, verify, "NODE_FAIL", 0).ok());
  w.Step();
  std::string again = w.OnlyRun(id, "verify");
  EXPECT_NE(again, verify);
  Task t = w.GetTask(id);
  EXPECT_EQ(t.patchset, 0) << "not rejected";
  EXPECT_EQ(t.retries, 0);
  ASSERT_TRUE(w.launcher->FinishVerify(again, true).ok());
  w.Step();
  EXPECT_NE(w.StatusOf(id), "open");
}

TEST(SchedulerCluster, PastTenLossesALossCountsAsAFailure) {
  SchedulerOptions o = TestOptions();
  o.max_retries = 3;
  SchedWorld w(o);
  w.SetBudget("a", 10000);
  std::string id = w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  w.Step();
  for (int64_t i = 1; i <= kMaxUncountedClusterLosses; ++i) {
    ASSERT_TRUE(LoseRun(w, w.OnlyRun(id, "dev"), "NODE_FAIL", 0).ok());
    w.Step();
    ASSERT_EQ(w.GetTask(id).retries, 0) << "loss " << i;
  }
  // A cluster that loses every job does not retry it for ever.
  ASSERT_TRUE(LoseRun(w, w.OnlyRun(id, "dev"), "NODE_FAIL", 0).ok());
  w.Step();
  Task t = w.GetTask(id);
  EXPECT_EQ(t.retries, 1);
  EXPECT_GT(t.not_before, 0);
  EXPECT_EQ(w.Count("SELECT COUNT(*) FROM events WHERE kind = 'failure' AND detail LIKE '%the cluster lost 11 runs%'"), 1);
}

TEST(SchedulerCluster, OnlyTheClusterPrefixMarksALostRun) {
  EXPECT_TRUE(IsClusterInfrastructureError("cluster: NODE_FAIL"));
  EXPECT_FALSE(IsClusterInfrastructureError("the agent failed: cluster: NODE_FAIL"));
  EXPECT_FALSE(IsClusterInfrastructureError("monitor died"));
  DevRunFacts f;
  f.status = RunStatus::kFailed;
  f.lost_by_cluster = true;
  f.retries = 5;
  Decision d = DecideAfterDev(TestOptions(), f);
  EXPECT_EQ(d.next, NextStep::kRetryUncounted);
  EXPECT_EQ(d.retries, 5);
  f.cluster_losses = kMaxUncountedClusterLosses + 1;
  EXPECT_NE(DecideAfterDev(TestOptions(), f).next, NextStep::kRetryUncounted);
}

}  // namespace
}  // namespace pipeline
