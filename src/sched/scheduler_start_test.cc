// Starting dev runs: slots, domains, priorities, dependencies and budgets,
// on a fake launcher and a fake clock.
#include <gtest/gtest.h>

#include "sched/sched_testing.h"
#include "tasks/domain_pause.h"

namespace pipeline {
namespace {

using sched_testing::SchedWorld;
using sched_testing::TestOptions;

TEST(SchedulerStart, ARecordedRunIsHandedToTheLauncherWithItsHold) {
  SchedWorld w;
  w.SetBudget("a", 1000);
  std::string t = w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  StepResult r = w.Step();
  EXPECT_EQ(r.started, 1);
  EXPECT_EQ(r.active, 1);
  EXPECT_EQ(w.StatusOf(t), "in-progress");
  std::string run = w.OnlyRun(t, "dev");
  RunRecord rec = w.Run(run);
  EXPECT_EQ(rec.status, RunStatus::kRunning);  // claimed by its (fake) worker
  EXPECT_EQ(rec.domain.value_or(""), "a");
  EXPECT_EQ(w.Budget("a").held_cents, 100);
  EXPECT_TRUE(w.repo.HasWorktree(t));
  EXPECT_TRUE(ReadFile(rec.prompt_path).ok()) << "the prompt is written before the launch";
}

TEST(SchedulerStart, OneRunPerDomainByDefault) {
  SchedWorld w;
  w.SetBudget("a", 1000);
  std::string t1 = w.AddTask("a");
  std::string t2 = w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  StepResult r = w.Step();
  EXPECT_EQ(r.started, 1);
  EXPECT_EQ(w.StatusOf(t1), "in-progress");
  EXPECT_EQ(w.StatusOf(t2), "open");
  EXPECT_EQ(w.Step().started, 0) << "the domain is still busy";
}

TEST(SchedulerStart, DomainLimitFromOptions) {
  SchedulerOptions o = TestOptions();
  o.domain_max_active["a"] = 2;
  SchedWorld w(o);
  w.SetBudget("a", 1000);
  for (int i = 0; i < 3; ++i) w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  EXPECT_EQ(w.Step().started, 2);
  EXPECT_EQ(w.launcher->Running("dev").size(), 2u);
}

TEST(SchedulerStart, MaxActiveCapsAllDomainsTogether) {
  SchedulerOptions o = TestOptions();
  o.max_active = 2;
  SchedWorld w(o);
  for (const char* d : {"a", "b", "c", "d"}) {
    w.SetBudget(d, 1000);
    w.AddTask(d);
  }
  ASSERT_TRUE(w.Start().ok());
  StepResult r = w.Step();
  EXPECT_EQ(r.started, 2);
  EXPECT_TRUE(r.more) << "work waits for a slot";
  EXPECT_EQ(w.Step().started, 0);
}

TEST(SchedulerStart, AFreedSlotIsHandedOverInTheSameStep) {
  SchedWorld w;
  w.SetBudget("a", 1000);
  std::string t1 = w.AddTask("a");
  std::string t2 = w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  w.Step();
  ASSERT_TRUE(w.launcher->FinishDev(w.OnlyRun(t1, "dev"), RunStatus::kFailed, 10, false).ok());
  StepResult r = w.Step();
  EXPECT_EQ(r.harvested, 1);
  EXPECT_EQ(r.started, 1);
  EXPECT_EQ(w.StatusOf(t2), "in-progress");
  EXPECT_EQ(w.RunsOf(t2, "dev").size(), 1u);
}

TEST(SchedulerStart, AHigherPriorityGoesFirst) {
  SchedWorld w;
  w.SetBudget("a", 1000);
  std::string low = w.AddTask("a", {}, 3);
  std::string high = w.AddTask("a", {}, 0);
  ASSERT_TRUE(w.Start().ok());
  w.Step();
  EXPECT_EQ(w.StatusOf(high), "in-progress");
  EXPECT_EQ(w.StatusOf(low), "open");
}

TEST(SchedulerStart, ADependentTaskWaitsForItsDependencyToBeDone) {
  SchedulerOptions o = TestOptions();
  o.verify.fallback.command.reset();
  SchedWorld w(o);
  w.SetBudget("a", 1000);
  w.SetBudget("b", 1000);
  std::string first = w.AddTask("a");
  std::string second = w.AddTask("b", {first});
  ASSERT_TRUE(w.Start().ok());
  w.Step();
  EXPECT_EQ(w.StatusOf(second), "open");
  EXPECT_TRUE(w.RunsOf(second).empty());
  ASSERT_TRUE(w.launcher->FinishDev(w.OnlyRun(first, "dev"), RunStatus::kDone, 10, true).ok());
  w.Step();  // verified (no verify command) and its integration launched
  EXPECT_TRUE(w.RunsOf(second).empty()) << "verified is not done";
  ASSERT_TRUE(w.launcher->FinishIntegrate(w.OnlyRun(first, "integrate"), "integrated").ok());
  w.Step();
  EXPECT_EQ(w.StatusOf(first), "done");
  EXPECT_EQ(w.StatusOf(second), "in-progress");
}

TEST(SchedulerStart, ATaskWithoutNamespaceIsReportedOnceAndNeverStarted) {
  SchedWorld w;
  std::string t = w.AddTask("", {}, 2, std::string("none"));
  ASSERT_TRUE(w.Start().ok());
  w.Step();
  w.Step();
  EXPECT_EQ(w.StatusOf(t), "open");
  EXPECT_EQ(w.Count("SELECT COUNT(*) FROM events WHERE kind = 'skip' AND task_id = '" + t + "'"), 1);
  EXPECT_EQ(w.launcher->launches(), 0);
}

TEST(SchedulerStart, DomainRulesPutNamespacesInOneDomain) {
  SchedulerOptions o = TestOptions();
  o.domain_rules = {{"Omni/*", "omni"}};
  SchedWorld w(o);
  w.SetBudget("omni", 1000);
  w.AddTask("Omni/Pipeline");
  w.AddTask("Omni/Fund");
  ASSERT_TRUE(w.Start().ok());
  EXPECT_EQ(w.Step().started, 1) << "two namespaces, one domain, one slot";
  auto running = w.launcher->Running("dev");
  ASSERT_EQ(running.size(), 1u);
  EXPECT_EQ(w.Run(running[0]).domain.value_or(""), "omni");
}

TEST(SchedulerStart, NoBudgetNoStart) {
  SchedWorld w;
  w.SetBudget("a", 50);  // less than one hold of 100
  std::string t = w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  EXPECT_EQ(w.Step().started, 0);
  EXPECT_EQ(w.StatusOf(t), "open");
  EXPECT_EQ(w.Budget("a").held_cents, 0);
  bool said = false;
  for (const auto& e : w.events) said = said || (e.kind == "skip" && e.detail.find("no budget") != std::string::npos);
  EXPECT_TRUE(said);
}

TEST(SchedulerStart, ARefusedDomainDoesNotBlockAnother) {
  SchedWorld w;
  w.SetBudget("poor", 0);
  w.SetBudget("rich", 1000);
  std::string p = w.AddTask("poor", {}, 0);
  std::string r = w.AddTask("rich", {}, 4);
  ASSERT_TRUE(w.Start().ok());
  EXPECT_EQ(w.Step().started, 1);
  EXPECT_EQ(w.StatusOf(p), "open");
  EXPECT_EQ(w.StatusOf(r), "in-progress");
}

TEST(SchedulerStart, AGrantByAnotherProcessLetsTheDomainStart) {
  SchedWorld w;
  w.SetBudget("a", 0);
  std::string t = w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  EXPECT_EQ(w.Step().started, 0);
  w.Grant("a", 500);  // another connection commits: the refusal is forgotten
  EXPECT_EQ(w.Step().started, 1);
  EXPECT_EQ(w.StatusOf(t), "in-progress");
}

TEST(SchedulerStart, OnlyAsManyHoldsAsTheBudgetFits) {
  SchedulerOptions o = TestOptions();
  o.domain_max_active["a"] = 4;
  SchedWorld w(o);
  w.SetBudget("a", 250);
  for (int i = 0; i < 4; ++i) w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  EXPECT_EQ(w.Step().started, 2);
  DomainReport b = w.Budget("a");
  EXPECT_EQ(b.held_cents, 200);
  EXPECT_GE(b.remaining_cents, 0);
}

TEST(SchedulerStart, ARefusedLaunchGivesTheSlotAndTheHoldBack) {
  SchedWorld w;
  w.SetBudget("a", 1000);
  std::string t = w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  w.launcher->RefuseLaunches(true);
  StepResult r = w.Step();
  EXPECT_EQ(r.active, 0);
  EXPECT_EQ(w.StatusOf(t), "open");
  Task task = w.GetTask(t);
  EXPECT_EQ(task.retries, 1) << "a run that could not start counts as a failure";
  EXPECT_EQ(w.Budget("a").held_cents, 0);
  EXPECT_EQ(w.Count("SELECT COUNT(*) FROM holds WHERE state = 'released'"), 1);
  EXPECT_EQ(w.Count("SELECT COUNT(*) FROM runs WHERE status = 'failed'"), 1);
}

TEST(SchedulerStart, AWorktreeFailureUndoesTheClaim) {
  SchedWorld w;
  w.SetBudget("a", 1000);
  std::string t = w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  w.repo.FailWorktrees(true);
  w.Step();
  EXPECT_EQ(w.launcher->launches(), 0);
  EXPECT_EQ(w.StatusOf(t), "open");
  EXPECT_EQ(w.Budget("a").held_cents, 0);
  EXPECT_EQ(w.Count("SELECT COUNT(*) FROM runs WHERE error LIKE 'worktree:%'"), 1);
}

TEST(SchedulerStart, DryRunChangesNothing) {
  SchedulerOptions o = TestOptions();
  o.dry_run = true;
  SchedWorld w(o);
  w.SetBudget("a", 1000);
  std::string t = w.AddTask("a");
  ASSERT_TRUE(w.Start().ok());
  StepResult r = w.Step();
  EXPECT_EQ(r.started, 1) << "it says what it would start";
  EXPECT_EQ(w.EventsOf("would-start"), 1);
  EXPECT_EQ(w.StatusOf(t), "open");
  EXPECT_EQ(w.Count("SELECT COUNT(*) FROM runs"), 0);
  EXPECT_EQ(w.launcher->launches(), 0);
}

}  // namespace
}  // namespace pipeline

namespace pipeline {
namespace {

using sched_testing::SchedWorld;

TEST(SchedulerStart, LowMemoryStartsNothingAndLooksAgainLater) {
  SchedWorld w;
  w.SetBudget("a", 1000);
  std::string t = w.AddTask("a");
  bool low = true;
  w.memory_gate = [&]() -> Status {
    if (low) return Error{ErrorKind::kUnavailable, "not enough free memory: 300 MiB available, 1024 MiB kept free"};
    return Status::Ok();
  };
  ASSERT_TRUE(w.Start().ok());
  StepResult r = w.Step();
  EXPECT_EQ(r.started, 0);
  EXPECT_TRUE(r.more);
  ASSERT_TRUE(r.next_wake.has_value()) << "a refused start must come back by itself";
  EXPECT_EQ(w.StatusOf(t), "open");
  EXPECT_EQ(w.Budget("a").held_cents, 0) << "nothing held for a run that did not start";
  bool said = false;
  for (const auto& e : w.events) said = said || (e.kind == "skip" && e.detail.find("memory") != std::string::npos);
  EXPECT_TRUE(said);
  low = false;
  w.clock.Advance(*r.next_wake - w.clock.Now());
  EXPECT_EQ(w.Step().started, 1);
  EXPECT_EQ(w.StatusOf(t), "in-progress");
}

TEST(SchedulerStart, APausedDomainStartsNothingUntilResumed) {
  SchedWorld w;
  w.SetBudget("a", 1000);
  w.SetBudget("b", 1000);
  std::string ta = w.AddTask("a");
  std::string tb = w.AddTask("b");
  ASSERT_TRUE(PauseDomain(*w.person_db, w.clock, "a", "human").ok());
  ASSERT_TRUE(w.Start().ok());
  EXPECT_EQ(w.Step().started, 1);
  EXPECT_EQ(w.StatusOf(ta), "open");
  EXPECT_EQ(w.StatusOf(tb), "in-progress");
  ASSERT_TRUE(ResumeDomain(*w.person_db, "a").ok());
  EXPECT_EQ(w.Step().started, 1);
  EXPECT_EQ(w.StatusOf(ta), "in-progress");
}

}  // namespace
}  // namespace pipeline
