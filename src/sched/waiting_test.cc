#include "sched/waiting.h"
#include "store/store_testing.h"

#include <gtest/gtest.h>

#include "agent/run_store.h"
#include "ledger/ledger.h"
#include "sched/sched_sql.h"
#include "sandbox/memory_limit.h"
#include "store/schema.h"
#include "tasks/domain_pause.h"
#include "tasks/task_store.h"

namespace pipeline {
namespace {

class WaitingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = store_testing::OpenMemoryStore();
    ASSERT_TRUE(db_);
    store_ = std::make_unique<TaskStore>(*db_, clock_);
    in_.options.reserve_cents = 10;
    in_.options.max_retries = 3;
  }

  std::string Task(const std::string& title, std::optional<std::string> ns, std::vector<std::string> deps = {}) {
    NewTask n;
    n.title = title;
    n.ns = std::move(ns);
    n.deps = std::move(deps);
    auto t = store_->Create(n);
    EXPECT_TRUE(t.ok()) << t.message();
    return t.ok() ? t->id : "";
  }
  void Grant(const std::string& domain, int64_t cents) {
    Ledger ledger(*db_, clock_, 0);
    ASSERT_TRUE(ledger.Grant(domain, cents).ok());
  }
  void ActiveDevRun(const std::string& run_id, const std::string& task_id, const std::string& domain) {
    RunSpec spec;
    spec.run_id = run_id;
    spec.task_id = task_id;
    spec.domain = domain;
    spec.phase = "dev";
    spec.workspace = "/tmp";
    spec.argv = {"true"};
    ASSERT_TRUE(InsertRun(*db_, spec, clock_).ok());
  }
  WaitReason For(const std::string& id) {
    auto all = ComputeWaiting(*db_, in_, clock_);
    EXPECT_TRUE(all.ok()) << all.message();
    if (all.ok())
      for (const auto& w : *all)
        if (w.task_id == id) return w;
    ADD_FAILURE() << "no reason for " << id;
    return {};
  }

  FakeClock clock_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<TaskStore> store_;
  WaitingInput in_;
};

TEST_F(WaitingTest, ADependencyBlocksAndIsNamedWithItsStatus) {
  Grant("A", 1000);
  std::string first = Task("first", std::string("A"));
  std::string second = Task("second", std::string("A"), {first});
  WaitReason w = For(second);
  EXPECT_EQ(w.kind, WaitKind::kDependency);
  EXPECT_EQ(w.reason, "waiting on dependency " + first + " (open)");
  ASSERT_EQ(w.detail["dependencies"].size(), 1u);
  EXPECT_EQ(w.detail["dependencies"][0]["task_id"], first);
  // The dependency itself is ready, not "domain busy" because of the task behind it.
  EXPECT_EQ(For(first).kind, WaitKind::kReady);
  ASSERT_TRUE(store_->SetStatus(first, TaskStatus::kNeedsHelp).ok());
  EXPECT_EQ(For(second).reason, "waiting on dependency " + first + " (needs-help)");
  ASSERT_TRUE(store_->SetStatus(first, TaskStatus::kDone).ok());
  EXPECT_EQ(For(second).kind, WaitKind::kReady);
}

TEST_F(WaitingTest, DomainBusyNamesTheRunAndTheOlderTask) {
  Grant("A", 1000);
  std::string older = Task("older", std::string("A"));
  std::string newer = Task("newer", std::string("A"));
  EXPECT_EQ(For(older).kind, WaitKind::kReady);
  WaitReason w = For(newer);
  EXPECT_EQ(w.kind, WaitKind::kDomainBusy);
  EXPECT_NE(w.reason.find("an older task starts first"), std::string::npos) << w.reason;
  ActiveDevRun("pipeline-a-run-1", "t-99", "A");
  w = For(older);
  EXPECT_EQ(w.kind, WaitKind::kDomainBusy);
  EXPECT_NE(w.reason.find("pipeline-a-run-1"), std::string::npos) << w.reason;
}

TEST_F(WaitingTest, NoBudgetSaysWhatItNeedsAndHas) {
  Grant("A", 5);
  std::string id = Task("poor", std::string("A"));
  WaitReason w = For(id);
  EXPECT_EQ(w.kind, WaitKind::kNoBudget);
  EXPECT_EQ(w.reason, "no budget in A (needs 10c, has 5c)");
  // A domain that has no ledger row yet starts with the default budget.
  in_.default_budget_cents = 100;
  std::string fresh = Task("fresh", std::string("B"));
  EXPECT_EQ(For(fresh).kind, WaitKind::kReady);
}

TEST_F(WaitingTest, MaxActiveWhenEverySlotIsTaken) {
  Grant("A", 1000);
  Grant("B", 1000);
  in_.options.max_active = 1;
  std::string a = Task("a", std::string("A"));
  std::string b = Task("b", std::string("B"));
  EXPECT_EQ(For(a).kind, WaitKind::kReady);
  EXPECT_EQ(For(b).kind, WaitKind::kMaxActive);
}

TEST_F(WaitingTest, APausedDomainSaysWhoPausedItAndTheOthersStart) {
  Grant("A", 1000);
  Grant("B", 1000);
  std::string a = Task("a", std::string("A"));
  std::string b = Task("b", std::string("B"));
  ASSERT_TRUE(PauseDomain(*db_, clock_, "A", "human").ok());
  WaitReason w = For(a);
  EXPECT_EQ(w.kind, WaitKind::kPaused);
  EXPECT_EQ(w.reason, "paused: domain A is paused (by human at " + FormatIso8601(clock_.Now()) +
                          "); nothing new starts there until it is resumed");
  EXPECT_EQ(w.detail["paused_by"], "human");
  EXPECT_EQ(WaitReasonToJson(w)["kind"], "paused");
  EXPECT_EQ(For(b).kind, WaitKind::kReady) << "a paused domain takes no slot";
  ASSERT_TRUE(ResumeDomain(*db_, "A").ok());
  EXPECT_EQ(For(a).kind, WaitKind::kReady);
}

TEST_F(WaitingTest, LowMemoryHoldsEveryStartWithTheFigures) {
  Grant("A", 1000);
  Grant("B", 5);
  std::string a = Task("a", std::string("A"));
  std::string poor = Task("poor", std::string("B"));
  std::string dep = Task("later", std::string("A"), {a});
  int asked = 0;
  std::string meminfo = "MemTotal: 4000000 kB\nMemAvailable: 831488 kB\n";  // 812 MiB
  in_.memory_gate = [&]() {
    ++asked;
    return CheckFreeMemory(1024LL << 20, meminfo);
  };
  WaitReason w = For(a);
  EXPECT_EQ(w.kind, WaitKind::kMemory);
  EXPECT_EQ(w.reason, "memory: 812 MiB free, 1024 MiB kept free (sandbox.min_free_mb)");
  EXPECT_EQ(WaitReasonToJson(w)["kind"], "memory");
  EXPECT_EQ(asked, 1);
  // Other reasons stay what they are: only a task that would start waits on memory.
  EXPECT_EQ(For(poor).kind, WaitKind::kNoBudget);
  EXPECT_EQ(For(dep).kind, WaitKind::kDependency);
  meminfo = "MemAvailable: 2097152 kB\n";
  EXPECT_EQ(For(a).kind, WaitKind::kReady);
}

TEST_F(WaitingTest, BackoffGivesTheTimeTheAttemptAndTheLastError) {
  Grant("A", 1000);
  std::string id = Task("flaky", std::string("A"));
  Micros until = clock_.Now() + 30'000'000;
  ASSERT_TRUE(db_->Exec("UPDATE tasks SET retries = 1, not_before = " + std::to_string(until) + " WHERE id = '" + id + "'").ok());
  ASSERT_TRUE(AddEvent(*db_, clock_.Now(), id, std::string("run-1"), "failure", "retry: run failed: boom").ok());
  WaitReason w = For(id);
  EXPECT_EQ(w.kind, WaitKind::kBackoff);
  EXPECT_NE(w.reason.find("until " + FormatIso8601(until)), std::string::npos) << w.reason;
  EXPECT_NE(w.reason.find("attempt 2 of 3"), std::string::npos) << w.reason;
  EXPECT_NE(w.reason.find("last error: retry: run failed: boom"), std::string::npos) << w.reason;
  clock_.Advance(31'000'000);
  EXPECT_EQ(For(id).kind, WaitKind::kReady);
}

TEST_F(WaitingTest, NeedsHelpShowsTheQuestionElseTheReason) {
  std::string asked = Task("ambiguous", std::string("A"));
  ASSERT_TRUE(store_->AddComment(asked, "Which database should I use?", "agent:engineer").ok());
  ASSERT_TRUE(store_->AddComment(asked, "Pipeline: the agent asked a question (run=r1); needs help", "system").ok());
  ASSERT_TRUE(store_->SetStatus(asked, TaskStatus::kNeedsHelp).ok());
  WaitReason w = For(asked);
  EXPECT_EQ(w.kind, WaitKind::kNeedsPerson);
  EXPECT_NE(w.reason.find("asks \"Which database should I use?\""), std::string::npos) << w.reason;
  EXPECT_EQ(w.detail["question"], "Which database should I use?");

  std::string failed = Task("keeps failing", std::string("A"));
  ASSERT_TRUE(store_->AddComment(failed, "Pipeline: 3 failed attempts (run=r2); needs help", "system").ok());
  ASSERT_TRUE(store_->SetStatus(failed, TaskStatus::kNeedsHelp).ok());
  w = For(failed);
  EXPECT_NE(w.reason.find("3 failed attempts"), std::string::npos) << w.reason;
  EXPECT_FALSE(w.detail.contains("question"));

  // A task moved to needs-help by hand and never run: a comment alone does
  // not reopen it (the scheduler's own test), so it is not "answered".
  ASSERT_TRUE(store_->AddComment(failed, "I will look at it.", "human").ok());
  w = For(failed);
  EXPECT_EQ(w.reason.find("answered"), std::string::npos) << w.reason;
  EXPECT_NE(w.reason.find("3 failed attempts"), std::string::npos) << "the reason still stands: " << w.reason;

  // Once a person answers after the run that asked, the question is no
  // longer what it waits for.
  ActiveDevRun("pipeline-a-ask-1", asked, "A");
  clock_.Advance(1'000'000);
  ASSERT_TRUE(store_->AddComment(asked, "Use SQLite.", "human").ok());
  w = For(asked);
  EXPECT_EQ(w.kind, WaitKind::kNeedsPerson);
  EXPECT_NE(w.reason.find("answered by a person"), std::string::npos) << w.reason;
  EXPECT_NE(w.reason.find("reopens it on its next step"), std::string::npos) << w.reason;
  EXPECT_TRUE(w.detail.contains("answered_at"));
  EXPECT_FALSE(w.detail.contains("question"));
}

TEST_F(WaitingTest, AWaitingIntegrationIsAStateWithItsReason) {
  std::string id = Task("done work", std::string("A"));
  ASSERT_TRUE(store_->SetStatus(id, TaskStatus::kVerified).ok());
  EXPECT_EQ(For(id).kind, WaitKind::kIntegrationQueued);
  ASSERT_TRUE(AddEvent(*db_, clock_.Now(), id, std::string("run-i"), "integrate-waiting",
                       "integration waiting: base branch main has uncommitted changes (a.c)").ok());
  WaitReason w = For(id);
  EXPECT_EQ(w.kind, WaitKind::kIntegrationWaiting);
  EXPECT_NE(w.reason.find("(a.c)"), std::string::npos) << w.reason;
}

TEST_F(WaitingTest, NoNamespaceAndEveryTaskThatIsNotDoneHasAReason) {
  std::string none = Task("nowhere", std::nullopt);
  std::string review = Task("look", std::string("A"));
  ASSERT_TRUE(store_->SetStatus(review, TaskStatus::kReview).ok());
  std::string done = Task("finished", std::string("A"));
  ASSERT_TRUE(store_->SetStatus(done, TaskStatus::kDone).ok());
  EXPECT_EQ(For(none).kind, WaitKind::kNoNamespace);
  EXPECT_EQ(For(review).kind, WaitKind::kReview);
  auto all = ComputeWaiting(*db_, in_, clock_);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);  // the done task has none
}

}  // namespace
}  // namespace pipeline
