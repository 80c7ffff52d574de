// The Slurm client against a real one-node cluster (munge, slurmctld,
// slurmd from Debian's packages).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "slurm/client.h"
#include "slurm/cluster.h"
#include "testutil/testutil.h"

namespace pipeline::slurm {
namespace {

using pipeline::testing::EnsureSlurmCluster;
using pipeline::testing::ReadTextFile;
using pipeline::testing::TempDir;

class SlurmClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conf_ = EnsureSlurmCluster();
    ASSERT_FALSE(HasFailure());
    client_ = std::make_unique<Client>(RealProcessRunner(), ClientOptions{.slurm_conf = conf_});
    ASSERT_TRUE(client_->Ping().ok());
    auto script = WriteJobScript(dir_.path());
    ASSERT_TRUE(script.ok()) << script.message();
    script_ = *script;
  }

  SubmitRequest Job(const std::string& name, std::vector<std::string> args) {
    SubmitRequest r;
    r.job_name = name;
    r.script = script_;
    r.args = std::move(args);
    r.chdir = dir_.path();
    r.output = dir_ / (name + ".out");
    return r;
  }

  // Polls until the job is final (Slurm gives no event to wait on from a
  // client; 20 s is far beyond the ~1 s a job takes on this cluster).
  JobInfo WaitFinal(const std::string& id) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    JobInfo last;
    while (std::chrono::steady_clock::now() < deadline) {
      auto q = client_->Query(id);
      EXPECT_TRUE(q.ok()) << q.message();
      if (q.ok() && q->has_value()) {
        last = **q;
        if (IsFinal(last.state)) return last;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "job " << id << " not final after 20 s: " << JobStateName(last.state);
    return last;
  }

  std::string conf_, script_;
  TempDir dir_;
  std::unique_ptr<Client> client_;
};

TEST_F(SlurmClusterTest, ArgvReachesTheJobUntouchedByAnyShell) {
  std::string marker = dir_ / "args.txt";
  std::string hostile = "$(touch " + dir_.path() + "/pwned); `id` \"q\" 'x' *";
  auto id = client_->Submit(Job("pl-test-argv", {"/bin/sh", "-c", "printf '%s\\n' \"$1\" > \"$2\"", "sh", hostile, marker}));
  ASSERT_TRUE(id.ok()) << id.message();
  JobInfo done = WaitFinal(*id);
  EXPECT_EQ(done.state, JobState::kCompleted);
  EXPECT_EQ(OutcomeOf(done.state), JobOutcome::kSucceeded);
  EXPECT_EQ(ReadTextFile(marker), hostile + "\n");
  EXPECT_EQ(access((dir_ / "pwned").c_str(), F_OK), -1);
}

TEST_F(SlurmClusterTest, ExitStatusIsReadBack) {
  auto id = client_->Submit(Job("pl-test-exit", {"/bin/sh", "-c", "exit 3"}));
  ASSERT_TRUE(id.ok()) << id.message();
  JobInfo done = WaitFinal(*id);
  EXPECT_EQ(done.state, JobState::kFailed);
  EXPECT_EQ(done.exit_code, 3);
  EXPECT_EQ(OutcomeOf(done.state), JobOutcome::kFailed);
}

TEST_F(SlurmClusterTest, HeldJobIsPendingWithItsReasonUntilReleased) {
  SubmitRequest r = Job("pl-test-held", {"/bin/true"});
  r.hold = true;
  r.time_limit_minutes = 1;
  auto id = client_->Submit(r);
  ASSERT_TRUE(id.ok()) << id.message();
  auto q = client_->Query(*id);
  ASSERT_TRUE(q.ok() && q->has_value()) << q.message();
  EXPECT_EQ((*q)->state, JobState::kPending);
  EXPECT_EQ((*q)->reason, "JobHeldUser");
  ASSERT_TRUE(client_->Release(*id).ok());
  EXPECT_EQ(WaitFinal(*id).state, JobState::kCompleted);
}

TEST_F(SlurmClusterTest, CancelledFromOutsideReadsAsKilled) {
  auto id = client_->Submit(Job("pl-test-cancel", {"/bin/sleep", "60"}));
  ASSERT_TRUE(id.ok()) << id.message();
  ASSERT_TRUE(client_->Cancel(*id).ok());
  JobInfo done = WaitFinal(*id);
  EXPECT_EQ(done.state, JobState::kCancelled);
  EXPECT_EQ(OutcomeOf(done.state), JobOutcome::kKilled);
}

TEST_F(SlurmClusterTest, JobsAreFoundByNameForAdoption) {
  std::string name = "pl-test-find-" + std::to_string(::getpid());
  auto id = client_->Submit(Job(name, {"/bin/true"}));
  ASSERT_TRUE(id.ok()) << id.message();
  auto jobs = client_->FindByName(name);
  ASSERT_TRUE(jobs.ok()) << jobs.message();
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].id, *id);
  auto none = client_->FindByName(name + "-never");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  WaitFinal(*id);
}

TEST_F(SlurmClusterTest, InvalidPartitionIsRefusedWithSlurmsWords) {
  SubmitRequest r = Job("pl-test-part", {"/bin/true"});
  r.partition = "no-such-partition";
  auto id = client_->Submit(r);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.kind(), ErrorKind::kRefused);
  EXPECT_NE(id.message().find("partition"), std::string::npos) << id.message();
}

}  // namespace
}  // namespace pipeline::slurm
