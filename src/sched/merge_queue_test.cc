// The batched merge queue as the scheduler drives it: which tasks one
// integrate-batch run takes, how every change's answer is applied in one
// harvest, and how a red base stops the queue (runs finished by the fake
// launcher; the worker itself is tested in src/integrate and tests/).
#include "sched/merge_queue.h"

#include <gtest/gtest.h>

#include "sched/sched_testing.h"
#include "sched/waiting.h"

namespace pipeline {
namespace {

using sched_testing::SchedWorld;
using sched_testing::TestOptions;

SchedulerOptions BatchOptions(int batch_max = 8) {
  SchedulerOptions o = TestOptions();
  o.batch_max = batch_max;
  o.integrate_parallel = 2;
  o.max_active = 8;
  o.default_domain_max_active = 8;
  o.base_recheck_s = 300;
  return o;
}

struct Queue {
  explicit Queue(SchedulerOptions o = BatchOptions()) : w(o) { w.SetBudget("a", 100000); }
  // n tasks through dev and verify, all verified before the queue looks:
  // integration is held back (a waiting answer) until all are in.
  std::vector<std::string> Verified(int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) ids.push_back(w.AddTask("a"));
    if (!w.sched) {
      EXPECT_TRUE(w.Start().ok());
    }
    w.Step();
    for (const auto& id : ids) EXPECT_TRUE(w.launcher->FinishDev(w.OnlyRun(id, "dev"), RunStatus::kDone, 1, true).ok());
    w.Step();
    for (const auto& id : ids) EXPECT_TRUE(w.launcher->FinishVerify(w.OnlyRun(id, "verify"), true).ok());
    w.Step();
    return ids;
  }
  // The one integrate run going, and the tasks it holds.
  std::string IntegrateRun() {
    auto runs = w.launcher->Running("integrate");
    EXPECT_EQ(runs.size(), 1u);
    return runs.empty() ? "" : runs.front();
  }
  std::vector<std::string> TasksOf(const std::string& run) { return IntegrateRunTasks(w.Run(run)); }
  std::vector<WaitReason> Waiting() {
    WaitingInput in;
    in.options = w.options;
    auto all = ComputeWaiting(*w.person_db, in, w.clock);
    EXPECT_TRUE(all.ok()) << all.message();
    return all.ok() ? *all : std::vector<WaitReason>{};
  }
  WaitReason WaitOf(const std::string& id) {
    for (auto& r : Waiting())
      if (r.task_id == id) return r;
    ADD_FAILURE() << "no reason for " << id;
    return {};
  }
  SchedWorld w;
};

TEST(MergeQueue, VerifiedTasksGoTogetherInOneBatchRunInQueueOrder) {
  Queue q;
  auto ids = q.Verified(5);
  std::string run = q.IntegrateRun();
  EXPECT_EQ(q.w.Run(run).argv[1], "integrate-batch");
  EXPECT_EQ(q.TasksOf(run), ids);
  // Each waits as a member of the batch, and says with whom.
  WaitReason r = q.WaitOf(ids[2]);
  EXPECT_EQ(r.kind, WaitKind::kRunning);
  EXPECT_NE(r.reason.find("batch of 5"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find(ids[0]), std::string::npos) << r.reason;
}

TEST(MergeQueue, AnAllGreenBatchLandsEveryChangeInOneHarvest) {
  Queue q;
  auto ids = q.Verified(4);
  std::map<std::string, std::string> all;
  for (const auto& id : ids) all[id] = "integrated";
  ASSERT_TRUE(q.w.launcher->FinishIntegrateBatch(q.IntegrateRun(), all, /*checks_run=*/1).ok());
  q.w.Step();
  for (const auto& id : ids) {
    EXPECT_EQ(q.w.StatusOf(id), "done") << id;
    EXPECT_FALSE(q.w.repo.HasWorktree(id)) << id;
  }
  EXPECT_EQ(q.w.Count("SELECT COUNT(*) FROM events WHERE kind = 'integrated'"), 4);
  // What it cost is on record: one check for four changes.
  EXPECT_EQ(q.w.Count("SELECT COUNT(*) FROM events WHERE kind = 'integrate-batch' AND detail LIKE "
                      "'batch of 4: 4 landed, 1 check run (0.25 per landed change)'"),
            1);
}

TEST(MergeQueue, OneCulpritAmongEightGoesBackWithTheCheckOutputTheRestRequeueInOrder) {
  Queue q;
  auto ids = q.Verified(8);
  std::map<std::string, std::string> answers;
  for (int i = 0; i < 8; ++i) answers[ids[i]] = i < 4 ? "integrated" : i == 4 ? "check-failed" : "requeued";
  ASSERT_TRUE(q.w.launcher->FinishIntegrateBatch(q.IntegrateRun(), answers, 4).ok());
  q.w.Step();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(q.w.StatusOf(ids[i]), "done") << i;
  Task culprit = q.w.GetTask(ids[4]);
  EXPECT_EQ(TaskStatusName(culprit.status), std::string("open"));
  EXPECT_EQ(culprit.patchset, 1);
  EXPECT_NE(culprit.feedback.value_or("").find("FAIL: test_of_" + ids[4]), std::string::npos) << *culprit.feedback;
  for (int i = 5; i < 8; ++i) EXPECT_EQ(q.w.StatusOf(ids[i]), "verified") << i;
  // The rest form the next batch, in their order.
  std::string next = q.IntegrateRun();
  EXPECT_EQ(q.TasksOf(next), (std::vector<std::string>{ids[5], ids[6], ids[7]}));
}

TEST(MergeQueue, TwoCulpritsEachGoBackWithTheirOwnOutput) {
  Queue q;
  auto ids = q.Verified(6);
  // First batch: the culprit is the 2nd; the 1st lands, 3..6 requeue.
  std::map<std::string, std::string> first = {{ids[0], "integrated"}, {ids[1], "check-failed"},
                                              {ids[2], "requeued"},    {ids[3], "requeued"},
                                              {ids[4], "requeued"},    {ids[5], "requeued"}};
  ASSERT_TRUE(q.w.launcher->FinishIntegrateBatch(q.IntegrateRun(), first, 3).ok());
  q.w.Step();
  std::string second = q.IntegrateRun();
  ASSERT_EQ(q.TasksOf(second), (std::vector<std::string>{ids[2], ids[3], ids[4], ids[5]}));
  ASSERT_TRUE(q.w.launcher
                  ->FinishIntegrateBatch(second, {{ids[2], "integrated"}, {ids[3], "integrated"},
                                                  {ids[4], "check-failed"}, {ids[5], "requeued"}},
                                         3)
                  .ok());
  q.w.Step();
  for (int i : {0, 2, 3}) EXPECT_EQ(q.w.StatusOf(ids[i]), "done") << i;
  for (int i : {1, 4}) {
    Task t = q.w.GetTask(ids[i]);
    EXPECT_EQ(TaskStatusName(t.status), std::string("open")) << i;
    EXPECT_NE(t.feedback.value_or("").find("test_of_" + ids[i]), std::string::npos) << i;
  }
  EXPECT_EQ(q.TasksOf(q.IntegrateRun()), std::vector<std::string>{ids[5]});
}

TEST(MergeQueue, AConflictInsideABatchReopensOnlyThatChange) {
  Queue q;
  auto ids = q.Verified(3);
  ASSERT_TRUE(q.w.launcher
                  ->FinishIntegrateBatch(q.IntegrateRun(),
                                         {{ids[0], "integrated"}, {ids[1], "conflict"}, {ids[2], "integrated"}}, 1)
                  .ok());
  q.w.Step();
  EXPECT_EQ(q.w.StatusOf(ids[0]), "done");
  EXPECT_EQ(q.w.StatusOf(ids[2]), "done");
  Task t = q.w.GetTask(ids[1]);
  EXPECT_EQ(TaskStatusName(t.status), std::string("open"));
  EXPECT_NE(t.feedback.value_or("").find("src/a.cc"), std::string::npos);
  EXPECT_TRUE(q.w.repo.HasWorktree(ids[1])) << "the branch is kept for the rebase";
  // The batch's log line says what became of the change that did not land.
  bool said = false;
  for (const auto& e : q.w.events)
    if (e.kind == "harvest" && e.detail.find("2 landed") != std::string::npos)
      said = e.detail.find("; " + ids[1] + " integration conflict") != std::string::npos;
  EXPECT_TRUE(said) << "no harvest line naming " << ids[1] << "'s conflict";
}

TEST(MergeQueue, ARedBaseStopsTheQueueSaysWhyAndResumesWhenGreen) {
  Queue q;
  auto ids = q.Verified(3);
  std::map<std::string, std::string> back;
  for (const auto& id : ids) back[id] = "requeued";
  ASSERT_TRUE(q.w.launcher->FinishIntegrateBatch(q.IntegrateRun(), back, 2, /*base_red=*/true).ok());
  StepResult r = q.w.Step();
  // Nothing lands, nobody is blamed, no new batch starts.
  for (const auto& id : ids) EXPECT_EQ(q.w.StatusOf(id), "verified");
  EXPECT_TRUE(q.w.launcher->Running("integrate").empty());
  for (const auto& id : ids) {
    WaitReason why = q.WaitOf(id);
    EXPECT_EQ(why.kind, WaitKind::kIntegrationWaiting);
    EXPECT_NE(why.reason.find("base red: main fails its check"), std::string::npos) << why.reason;
  }
  // A later change joins the wait rather than the base.
  ASSERT_TRUE(r.next_wake.has_value());
  EXPECT_EQ(*r.next_wake, q.w.clock.Now() + 300'000'000);
  q.w.clock.Advance(299'000'000);
  q.w.Step();
  EXPECT_TRUE(q.w.launcher->Running("integrate").empty());
  // The period is over: the base is checked again (alone first).
  q.w.clock.Advance(1'000'000);
  q.w.Step();
  std::string recheck = q.IntegrateRun();
  const auto& argv = q.w.Run(recheck).argv;
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--recheck-base"), argv.end());
  // Still red: nothing lands again.
  ASSERT_TRUE(q.w.launcher->FinishIntegrateBatch(recheck, back, 1, true).ok());
  q.w.Step();
  EXPECT_TRUE(q.w.launcher->Running("integrate").empty());
  // A person asks for a check now; this time it is green and the batch lands.
  ASSERT_TRUE(AddEvent(*q.w.person_db, q.w.clock.Now(), std::nullopt, std::nullopt, "base-recheck", "asked").ok());
  q.w.Step();
  std::string green = q.IntegrateRun();
  std::map<std::string, std::string> all;
  for (const auto& id : ids) all[id] = "integrated";
  ASSERT_TRUE(q.w.launcher->FinishIntegrateBatch(green, all, 2, false, "g1").ok());
  q.w.Step();
  for (const auto& id : ids) EXPECT_EQ(q.w.StatusOf(id), "done");
  auto state = ReadBaseState(*q.w.person_db);
  ASSERT_TRUE(state.ok());
  EXPECT_FALSE(state->red);
}

TEST(MergeQueue, AWorkerKilledMidBatchLandsWhatTheBaseHoldsAndRequeuesTheRest) {
  Queue q;
  auto ids = q.Verified(4);
  std::string run = q.IntegrateRun();
  // The ref moved to the prefix of two before the kill.
  q.w.repo.Merge(ids[0]);
  q.w.repo.Merge(ids[1]);
  q.w.launcher->Crash(run);
  q.w.Step();
  q.w.Step();
  EXPECT_EQ(q.w.StatusOf(ids[0]), "done");
  EXPECT_EQ(q.w.StatusOf(ids[1]), "done");
  EXPECT_EQ(q.w.StatusOf(ids[2]), "verified");
  EXPECT_EQ(q.w.StatusOf(ids[3]), "verified");
  EXPECT_EQ(q.w.Count("SELECT COUNT(*) FROM events WHERE kind = 'integrated'"), 2);
}

TEST(MergeQueue, BatchMaxOneIsTheSerialQueue) {
  Queue q(BatchOptions(1));
  auto ids = q.Verified(3);
  std::string run = q.IntegrateRun();
  EXPECT_EQ(q.w.Run(run).argv[1], "integrate-task");
  EXPECT_EQ(q.TasksOf(run), std::vector<std::string>{ids[0]});
  ASSERT_TRUE(q.w.launcher->FinishIntegrate(run, "integrated").ok());
  q.w.Step();
  EXPECT_EQ(q.w.StatusOf(ids[0]), "done");
  EXPECT_EQ(q.TasksOf(q.IntegrateRun()), std::vector<std::string>{ids[1]});
}

TEST(MergeQueue, BranchCheckNeverSkipsTheVerifyPhase) {
  SchedulerOptions o = BatchOptions();
  o.branch_check = false;
  Queue q(o);
  std::string id = q.w.AddTask("a");
  ASSERT_TRUE(q.w.Start().ok());
  q.w.Step();
  ASSERT_TRUE(q.w.launcher->FinishDev(q.w.OnlyRun(id, "dev"), RunStatus::kDone, 1, true).ok());
  q.w.Step();
  EXPECT_TRUE(q.w.RunsOf(id, "verify").empty());
  EXPECT_EQ(q.w.StatusOf(id), "verified");
  EXPECT_EQ(q.w.RunsOf(id, "integrate").size(), 1u);
}

}  // namespace
}  // namespace pipeline
