// After a commit: verification, the review gate, and the integration queue,
// with verify and integrate runs finished by the fake launcher.
#include <gtest/gtest.h>

#include "sched/review_gate.h"
#include "sched/sched_testing.h"

namespace pipeline {
namespace {

using sched_testing::SchedWorld;
using sched_testing::TestOptions;

// Tasks in domain "a" (and more if asked); helpers to drive one through.
struct Gates {
  explicit Gates(SchedulerOptions o = TestOptions()) : w(o) {
    w.SetBudget("a", 10000);
    w.SetBudget("b", 10000);
  }
  // Adds a task, starts it, and finishes its dev run with a commit.
  std::string Committed(const std::string& domain = "a") {
    std::string id = w.AddTask(domain);
    if (!w.sched) {
      EXPECT_TRUE(w.Start().ok());
    }
    w.Step();
    EXPECT_TRUE(w.launcher->FinishDev(w.OnlyRun(id, "dev"), RunStatus::kDone, 10, true).ok());
    w.Step();
    return id;
  }
  // ... and its verification passed.
  std::string Verified(const std::string& domain = "a") {
    std::string id = Committed(domain);
    EXPECT_TRUE(w.launcher->FinishVerify(w.OnlyRun(id, "verify"), true).ok());
    w.Step();
    return id;
  }
  SchedWorld w;
};

TEST(SchedulerGates, APassingVerificationPromotesAndQueuesIntegration) {
  Gates g;
  std::string id = g.Verified();
  EXPECT_EQ(g.w.StatusOf(id), "verified");
  std::string run = g.w.OnlyRun(id, "integrate");
  RunRecord r = g.w.Run(run);
  ASSERT_GE(r.argv.size(), 3u);
  EXPECT_EQ(r.argv[1], "integrate-task");
  EXPECT_EQ(r.argv[2], id);
}

TEST(SchedulerGates, AFailingVerificationReopensAsANewPatchsetWithTheOutput) {
  Gates g;
  std::string id = g.Committed();
  ASSERT_TRUE(g.w.launcher->FinishVerify(g.w.OnlyRun(id, "verify"), false, "FAIL: test_parse\n").ok());
  g.w.Step();
  Task t = g.w.GetTask(id);
  EXPECT_EQ(t.patchset, 1);
  EXPECT_EQ(t.retries, 0);
  ASSERT_TRUE(t.feedback.has_value());
  EXPECT_NE(t.feedback->find("FAIL: test_parse"), std::string::npos);
  // Reopened after the same back-off as a failed run (a hopeless check is
  // not re-run at once), then started on the new patchset.
  EXPECT_TRUE(g.w.RunsOf(id, "dev").empty() || g.w.Run(g.w.OnlyRun(id, "dev")).patchset == 0);
  g.w.clock.Advance(601'000'000);  // past any back-off (at most 600 s)
  g.w.Step();
  std::string next = g.w.OnlyRun(id, "dev");
  EXPECT_EQ(g.w.Run(next).patchset, 1);
}

TEST(SchedulerGates, WithoutAVerifyCommandTheTaskIsPromotedAtOnce) {
  SchedulerOptions o = TestOptions();
  o.verify.fallback.command.reset();
  Gates g(o);
  std::string id = g.Committed();
  EXPECT_EQ(g.w.StatusOf(id), "verified");
  EXPECT_TRUE(g.w.RunsOf(id, "verify").empty());
  EXPECT_EQ(g.w.RunsOf(id, "integrate").size(), 1u);
}

TEST(SchedulerGates, APerDomainVerifyCommandIsUsed) {
  SchedulerOptions o = TestOptions();
  o.verify.domains["b"].command = std::vector<std::string>{"sh", "check-b.sh"};
  Gates g(o);
  std::string id = g.Committed("b");
  EXPECT_EQ(g.w.Run(g.w.OnlyRun(id, "verify")).argv, (std::vector<std::string>{"sh", "check-b.sh"}));
}

TEST(SchedulerGates, AVerifyRunThatNeverStartedIsRunAgain) {
  Gates g;
  std::string id = g.w.AddTask("a");
  ASSERT_TRUE(g.w.Start().ok());
  g.w.Step();
  ASSERT_TRUE(g.w.launcher->FinishDev(g.w.OnlyRun(id, "dev"), RunStatus::kDone, 10, true).ok());
  g.w.launcher->LoseLaunches(true);  // the verify run's worker never claims it
  g.w.Step();
  EXPECT_TRUE(g.w.RunsOf(id, "verify").empty()) << "launched, never claimed";
  EXPECT_EQ(g.w.Count("SELECT COUNT(*) FROM runs WHERE phase = 'verify' AND status = 'starting'"), 1);
  g.w.launcher->LoseLaunches(false);
  g.w.clock.Advance(kClaimGrace + 1);
  g.w.Step();
  EXPECT_EQ(g.w.Count("SELECT COUNT(*) FROM runs WHERE phase = 'verify' AND error = 'never started'"), 1);
  EXPECT_EQ(g.w.RunsOf(id, "verify").size(), 1u) << "recorded and launched again";
  EXPECT_EQ(g.w.StatusOf(id), "in-progress");
}

TEST(SchedulerGates, ThePatchsetCapNeedsHelp) {
  SchedulerOptions o = TestOptions();
  o.max_patchsets = 2;
  Gates g(o);
  std::string id = g.Committed();
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(g.w.launcher->FinishVerify(g.w.OnlyRun(id, "verify"), false).ok());
    g.w.Step();
    if (i == 0) {
      g.w.clock.Advance(601'000'000);  // past the back-off after a rejected patchset
      g.w.Step();
      ASSERT_TRUE(g.w.launcher->FinishDev(g.w.OnlyRun(id, "dev"), RunStatus::kDone, 10, true).ok());
      g.w.Step();
    }
  }
  EXPECT_EQ(g.w.StatusOf(id), "needs-help");
  EXPECT_EQ(g.w.GetTask(id).patchset, 2);
  EXPECT_TRUE(g.w.RunsOf(id).empty());
}

TEST(SchedulerGates, ReviewRequiredStopsVerifiedWorkAtReview) {
  SchedulerOptions o = TestOptions();
  o.review_required = true;
  Gates g(o);
  std::string id = g.Verified();
  EXPECT_EQ(g.w.StatusOf(id), "review");
  EXPECT_TRUE(g.w.RunsOf(id, "integrate").empty());
}

TEST(SchedulerGates, AnApprovalSendsTheTaskToIntegration) {
  SchedulerOptions o = TestOptions();
  o.review_required = true;
  Gates g(o);
  std::string id = g.Verified();
  ASSERT_TRUE(ApproveTask(*g.w.person_db, g.w.clock, id).ok());
  g.w.Step();
  EXPECT_EQ(g.w.RunsOf(id, "integrate").size(), 1u);
}

TEST(SchedulerGates, ARejectionReopensWithTheReviewersReason) {
  SchedulerOptions o = TestOptions();
  o.review_required = true;
  Gates g(o);
  std::string id = g.Verified();
  ASSERT_TRUE(RejectTask(*g.w.person_db, g.w.clock, id, "name the flag --strict").ok());
  g.w.Step();
  std::string next = g.w.OnlyRun(id, "dev");
  auto prompt = ReadFile(g.w.Run(next).prompt_path);
  ASSERT_TRUE(prompt.ok());
  EXPECT_NE(prompt->find("name the flag --strict"), std::string::npos);
  EXPECT_EQ(g.w.Run(next).patchset, 1);
}

TEST(SchedulerGates, IntegratedIsDoneAndTheWorktreeGoes) {
  Gates g;
  std::string id = g.Verified();
  ASSERT_TRUE(g.w.repo.HasWorktree(id));
  ASSERT_TRUE(g.w.launcher->FinishIntegrate(g.w.OnlyRun(id, "integrate"), "integrated").ok());
  g.w.Step();
  EXPECT_EQ(g.w.StatusOf(id), "done");
  EXPECT_FALSE(g.w.repo.HasWorktree(id));
  EXPECT_EQ(g.w.Count("SELECT COUNT(*) FROM events WHERE kind = 'integrated' AND task_id = '" + id + "'"), 1);
}

TEST(SchedulerGates, AConflictReopensWithTheFiles) {
  Gates g;
  std::string id = g.Verified();
  ASSERT_TRUE(g.w.launcher->FinishIntegrate(g.w.OnlyRun(id, "integrate"), "conflict").ok());
  g.w.Step();
  Task t = g.w.GetTask(id);
  EXPECT_EQ(t.patchset, 1);
  ASSERT_TRUE(t.feedback.has_value());
  EXPECT_NE(t.feedback->find("src/a.cc"), std::string::npos);
  EXPECT_TRUE(g.w.repo.HasWorktree(id)) << "the branch is kept for the rebase";
}

TEST(SchedulerGates, FailedChecksOnTheMergeReopen) {
  Gates g;
  std::string id = g.Verified();
  ASSERT_TRUE(g.w.launcher->FinishIntegrate(g.w.OnlyRun(id, "integrate"), "check-failed").ok());
  g.w.Step();
  Task t = g.w.GetTask(id);
  EXPECT_EQ(t.patchset, 1);
  EXPECT_NE(t.feedback.value_or("").find("1 test failed"), std::string::npos);
}

TEST(SchedulerGates, AWaitingIntegrationIsRetriedAfterTheInterval) {
  Gates g;
  std::string id = g.Verified();
  ASSERT_TRUE(g.w.launcher->FinishIntegrate(g.w.OnlyRun(id, "integrate"), "waiting").ok());
  StepResult r = g.w.Step();
  EXPECT_EQ(g.w.StatusOf(id), "verified");
  EXPECT_TRUE(g.w.RunsOf(id, "integrate").empty());
  ASSERT_TRUE(r.next_wake.has_value());
  EXPECT_EQ(*r.next_wake, g.w.clock.Now() + 5'000'000);
  g.w.clock.Advance(4'999'999);
  g.w.Step();
  EXPECT_TRUE(g.w.RunsOf(id, "integrate").empty());
  g.w.clock.Advance(1);
  g.w.Step();
  EXPECT_EQ(g.w.RunsOf(id, "integrate").size(), 1u);
}

TEST(SchedulerGates, AWorkerThatDiedAfterMergingCountsAsIntegrated) {
  Gates g;
  std::string id = g.Verified();
  g.w.repo.Merge(id);
  ASSERT_TRUE(g.w.launcher->FinishIntegrate(g.w.OnlyRun(id, "integrate"), "").ok());
  g.w.Step();
  EXPECT_EQ(g.w.StatusOf(id), "done");
}

TEST(SchedulerGates, AWorkerThatDiedBeforeMergingIsRetried) {
  Gates g;
  std::string id = g.Verified();
  ASSERT_TRUE(g.w.launcher->FinishIntegrate(g.w.OnlyRun(id, "integrate"), "").ok());
  g.w.Step();
  EXPECT_EQ(g.w.StatusOf(id), "verified");
  g.w.clock.Advance(5'000'000);
  g.w.Step();
  EXPECT_EQ(g.w.RunsOf(id, "integrate").size(), 1u);
}

TEST(SchedulerGates, OneIntegrationAtATime) {
  Gates g;
  std::string first = g.Verified("a");
  std::string second = g.Verified("b");
  EXPECT_EQ(g.w.StatusOf(second), "verified");
  EXPECT_EQ(g.w.launcher->Running("integrate").size(), 1u);
  EXPECT_EQ(g.w.RunsOf(first, "integrate").size(), 1u) << "oldest first";
  ASSERT_TRUE(g.w.launcher->FinishIntegrate(g.w.OnlyRun(first, "integrate"), "integrated").ok());
  g.w.Step();
  EXPECT_EQ(g.w.RunsOf(second, "integrate").size(), 1u);
}

}  // namespace
}  // namespace pipeline
