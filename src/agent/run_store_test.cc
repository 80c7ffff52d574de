#include "agent/run_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc/process.h"
#include "testutil/testutil.h"

namespace pipeline {
namespace {

class RunStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    paths_.root = dir_ / ".pipeline";
    auto db = CreateStore(paths_);
    ASSERT_TRUE(db.ok()) << db.message();
    db_ = std::move(*db);
  }
  RunSpec Spec(const std::string& id) {
    RunSpec s;
    s.run_id = id;
    s.task_id = "t-1";
    s.profile = "command";
    s.workspace = dir_.path();
    s.argv = {"true"};
    s.model = "m";
    s.env = {{"A", "b"}};
    s.timeout_s = 5;
    return s;
  }
  testing::TempDir dir_;
  RootPaths paths_;
  std::unique_ptr<Db> db_;
  FakeClock clock_;
};

// A pid that is certainly dead: a child we started and reaped.
pid_t DeadPid() {
  SpawnOptions o;
  o.argv = {"true"};
  auto p = Spawn(o);
  EXPECT_TRUE(p.ok());
  waitpid(p->pid, nullptr, 0);
  return p->pid;
}

TEST_F(RunStoreTest, InsertThenReadBack) {
  ASSERT_TRUE(InsertRun(*db_, Spec("r1"), clock_).ok());
  auto r = GetRun(*db_, "r1");
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->status, RunStatus::kStarting);
  EXPECT_EQ(r->task_id, "t-1");
  EXPECT_EQ(r->argv, std::vector<std::string>{"true"});
  EXPECT_EQ(r->model, "m");
  EXPECT_EQ(r->env.at("A"), "b");
  EXPECT_EQ(r->timeout_s, 5);
  EXPECT_EQ(r->created_at, clock_.Now());
  EXPECT_EQ(r->stdout_path, paths_.runs_dir() + "/r1/stdout.log");
  auto j = RunToStatusJson(*r);
  EXPECT_EQ(j["status"], "running");  // starting is reported as running (seed protocol)
  EXPECT_EQ(j["state"], "starting");
  EXPECT_TRUE(j["cost_cents"].is_number());
  EXPECT_TRUE(j["error"].is_null());
}

TEST_F(RunStoreTest, DuplicateAndBadIdsAreRefused) {
  ASSERT_TRUE(InsertRun(*db_, Spec("r1"), clock_).ok());
  Status dup = InsertRun(*db_, Spec("r1"), clock_);
  EXPECT_EQ(dup.kind(), ErrorKind::kConflict);
  for (const char* bad : {"", "a/b", "..", "-x", "a\nb"}) {
    Status s = InsertRun(*db_, Spec(bad), clock_);
    EXPECT_EQ(s.kind(), ErrorKind::kInvalidArgument) << bad;
  }
  EXPECT_EQ(GetRun(*db_, "nope").kind(), ErrorKind::kNotFound);
  auto all = ListRuns(*db_, false);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
}

TEST_F(RunStoreTest, InsertJoinsAnOuterTransactionThatRollsBack) {
  Status s = db_->Write([&]() -> Status {
    PL_RETURN_IF_ERROR(InsertRun(*db_, Spec("r1"), clock_));
    return Refused("changed my mind");
  });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(GetRun(*db_, "r1").kind(), ErrorKind::kNotFound);
}

TEST_F(RunStoreTest, TransitionsAreCompareAndSet) {
  ASSERT_TRUE(InsertRun(*db_, Spec("r1"), clock_).ok());
  auto claimed = ClaimRunForMonitor(*db_, "r1", getpid(), *ProcessStartTime(getpid()));
  ASSERT_TRUE(claimed.ok()) << claimed.message();
  // A second monitor for the same run is refused.
  EXPECT_EQ(ClaimRunForMonitor(*db_, "r1", getpid(), 0).kind(), ErrorKind::kRefused);
  ASSERT_TRUE(MarkRunRunning(*db_, "r1", 4242, clock_.Now(), std::string("abc"), "command").ok());
  ASSERT_TRUE(UpdateRunProgress(*db_, "r1", 12.5, 3).ok());
  EXPECT_DOUBLE_EQ(GetRun(*db_, "r1")->cost_cents, 12.5);
  RunOutcome o;
  o.status = RunStatus::kDone;
  o.exit_code = 0;
  o.ended_at = clock_.Now() + 5;
  o.cost_cents = 20;
  o.turns = 4;
  o.head_after = "def";
  ASSERT_TRUE(FinishRun(*db_, "r1", o).ok());
  EXPECT_EQ(FinishRun(*db_, "r1", o).kind(), ErrorKind::kRefused);
  EXPECT_EQ(MarkKillRequested(*db_, "r1").kind(), ErrorKind::kRefused);
  ASSERT_TRUE(UpdateRunProgress(*db_, "r1", 99, 9).ok());  // ignored once ended
  auto r = GetRun(*db_, "r1");
  EXPECT_EQ(r->status, RunStatus::kDone);
  EXPECT_DOUBLE_EQ(r->cost_cents, 20);
  EXPECT_EQ(r->turns, 4);
  EXPECT_EQ(r->head_before, "abc");
  EXPECT_EQ(r->head_after, "def");
  EXPECT_EQ(r->agent_pid, 4242);
  EXPECT_EQ(RunToStatusJson(*r)["head_commit"], "def");
}

TEST_F(RunStoreTest, ReapsDeadMonitorsAndRunsThatNeverStarted) {
  ASSERT_TRUE(InsertRun(*db_, Spec("dead"), clock_).ok());
  ASSERT_TRUE(InsertRun(*db_, Spec("alive"), clock_).ok());
  ASSERT_TRUE(InsertRun(*db_, Spec("waiting"), clock_).ok());
  ASSERT_TRUE(ClaimRunForMonitor(*db_, "dead", DeadPid(), 0).ok());
  ASSERT_TRUE(ClaimRunForMonitor(*db_, "alive", getpid(), *ProcessStartTime(getpid())).ok());
  auto reaped = ReapDeadMonitors(*db_, clock_);
  ASSERT_TRUE(reaped.ok());
  EXPECT_EQ(*reaped, std::vector<std::string>{"dead"});
  EXPECT_EQ(GetRun(*db_, "dead")->error, "monitor died");
  EXPECT_EQ(GetRun(*db_, "dead")->status, RunStatus::kFailed);
  EXPECT_EQ(GetRun(*db_, "waiting")->status, RunStatus::kStarting);  // young: may still start
  clock_.Advance(kNeverStartedMicros + 1);
  reaped = ReapDeadMonitors(*db_, clock_);
  EXPECT_EQ(*reaped, std::vector<std::string>{"waiting"});
  EXPECT_EQ(GetRun(*db_, "waiting")->error, "never started");
  EXPECT_EQ(GetRun(*db_, "alive")->status, RunStatus::kStarting);
  // A monitor arriving late finds the row taken.
  EXPECT_EQ(ClaimRunForMonitor(*db_, "waiting", getpid(), 0).kind(), ErrorKind::kRefused);
}

TEST_F(RunStoreTest, ReaperKillsTheOrphanedAgentGroup) {
  ASSERT_TRUE(InsertRun(*db_, Spec("r1"), clock_).ok());
  SpawnOptions o;
  o.argv = {"sleep", "1000"};
  o.new_process_group = true;
  auto agent = Spawn(o);
  ASSERT_TRUE(agent.ok());
  ASSERT_TRUE(ClaimRunForMonitor(*db_, "r1", DeadPid(), 0).ok());
  ASSERT_TRUE(MarkRunRunning(*db_, "r1", agent->pid, clock_.Now(), std::nullopt, "command").ok());
  ASSERT_TRUE(ReapDeadMonitors(*db_, clock_).ok());
  int status = 0;
  ASSERT_EQ(waitpid(agent->pid, &status, 0), agent->pid);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

}  // namespace
}  // namespace pipeline
