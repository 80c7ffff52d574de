// The cluster launcher in process, its Slurm commands scripted: what it
// does while a submission is still out.
#include "slurm/launcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "agent/launcher.h"
#include "agent/run_store.h"
#include "slurm/slurm_testing.h"
#include "store/root.h"
#include "testutil/testutil.h"
#include "util/clock.h"

namespace pipeline::slurm {
namespace {

using pipeline::testing::TempDir;

RunSpec Spec(const std::string& run_id, const std::string& phase, const std::string& workspace) {
  RunSpec r;
  r.run_id = run_id;
  r.phase = phase;
  r.workspace = workspace;
  r.argv = {"true"};
  return r;
}

// A store, a scripted cluster and the launcher over them, on a fake clock.
class SlurmLauncherTest : public ::testing::Test {
 protected:
  SlurmLauncherTest() : paths_{dir_.path() + "/.pipeline"}, client_(runner_, {}) {
    auto db = CreateStore(paths_);
    EXPECT_TRUE(db.ok()) << db.message();
    if (db.ok()) db_ = std::move(*db);
    runner_.Answer("scontrol", 1, "", "slurm_load_jobs error: Invalid job id specified");
    options_.shared_dir = dir_.path() + "/shared";
    options_.self_exe = "/usr/bin/pipeline";
  }
  Db& db() { return *db_; }
  // Records a dev run and hands it to the launcher, whose sbatch waits for the gate.
  void LaunchDev(Launcher& launcher, const std::string& run_id) {
    ASSERT_TRUE(InsertRun(db(), Spec(run_id, "dev", dir_.path()), clock_).ok());
    ASSERT_TRUE(launcher.Launch(LaunchRequest{run_id, "t-1", "d", "dev"}).ok());
  }
  RunRecord Row(const std::string& run_id) {
    auto row = GetRun(db(), run_id);
    EXPECT_TRUE(row.ok()) << row.message();
    return row.ok() ? *row : RunRecord{};
  }
  // How many times job `id` was cancelled.
  int Scancels(const std::string& id) {
    int n = 0;
    for (const Command& c : runner_.calls) n += c.argv.at(0) == "scancel" && c.argv.at(1) == id;
    return n;
  }
  // Reconciles until sbatch's answer is taken and acted on.
  void TakeTheAnswer(Launcher& launcher) {
    for (int i = 0; i < 10'000 && runner_.Calls() == 0; ++i) usleep(1000);
    // Each reconcile takes what answered; the answer is written after the call is counted.
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(launcher.Reconcile(true).ok());
      usleep(1000);
    }
  }

  TempDir dir_;
  RootPaths paths_;
  std::unique_ptr<Db> db_;
  FakeClock clock_;
  GatedRunner runner_;
  Client client_;
  ExecutorOptions options_;
};

// sbatch may take seconds on a busy controller. Meanwhile the run is the
// cluster launcher's: neither the local launcher's sweep for runs that
// never started (which runs while an integration is local) nor another
// process looking for dead monitors may fail it, or its job would run for a
// row already given up and its task would start again beside it.
TEST_F(SlurmLauncherTest, ARunWhoseSubmissionIsSlowIsNotTakenForOneThatNeverStarted) {
  Launcher launcher(db(), paths_, clock_, client_, options_);
  const std::string dev = "pipeline-d-t-1-1", integrate = "pipeline-integrate-1";
  LaunchDev(launcher, dev);
  // An integration on this host, its monitor alive (this process): the
  // local launcher's full look runs at every reconcile.
  ASSERT_TRUE(InsertRun(db(), Spec(integrate, "integrate", dir_.path()), clock_).ok());
  auto claimed = ClaimRunForMonitor(db(), integrate, getpid(), ProcessStartTime(getpid()).value_or(0));
  ASSERT_TRUE(claimed.ok()) << claimed.message();
  launcher.Adopt(*claimed);

  clock_.Advance(kNeverStartedMicros + kClaimGrace + 1'000'000);
  ASSERT_TRUE(launcher.Reconcile(/*watching=*/true).ok());
  ASSERT_TRUE(ReapDeadMonitors(db(), clock_).ok());
  EXPECT_EQ(Row(dev).status, RunStatus::kStarting) << Row(dev).error.value_or("");

  // sbatch answers at last: the row is claimed by its job.
  runner_.Open();
  TakeTheAnswer(launcher);
  EXPECT_EQ(Row(dev).status, RunStatus::kStarting) << Row(dev).error.value_or("");
  auto job = ClusterJobOfRun(db(), dev);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->value_or("none"), "100");
  launcher.Detach(0);
}

// sbatch killed at its deadline may have submitted the job all the same:
// the run is not failed on that answer but claimed by its job's name.
TEST_F(SlurmLauncherTest, ASubmissionWithoutAnAnswerIsClaimedByItsJobsName) {
  Launcher launcher(db(), paths_, clock_, client_, options_);
  const std::string dev = "pipeline-d-t-1-1";
  LaunchDev(launcher, dev);
  runner_.Answer("squeue", 0, "4242|PENDING|Priority|" + JobNameForRun(dev) + "\n");
  runner_.Open(/*exit_code=*/-1, /*timed_out=*/true);
  TakeTheAnswer(launcher);
  EXPECT_EQ(Row(dev).status, RunStatus::kStarting) << Row(dev).error.value_or("");
  auto job = ClusterJobOfRun(db(), dev);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->value_or("none"), "4242");
}

// ... and when no job carries its name, it never started: failed once the
// time a submission may still take has passed, not before.
TEST_F(SlurmLauncherTest, ASubmissionWithoutAnAnswerAndNoJobFailsAfterTheDeadline) {
  Launcher launcher(db(), paths_, clock_, client_, options_);
  const std::string dev = "pipeline-d-t-1-1";
  LaunchDev(launcher, dev);
  runner_.Open(/*exit_code=*/-1, /*timed_out=*/true);
  TakeTheAnswer(launcher);
  EXPECT_EQ(Row(dev).status, RunStatus::kStarting) << Row(dev).error.value_or("");
  clock_.Advance(client_.CommandDeadline() + kClaimGrace + 1);
  ASSERT_TRUE(launcher.Reconcile(true).ok());
  EXPECT_EQ(Row(dev).status, RunStatus::kFailed);
  EXPECT_EQ(Row(dev).error.value_or(""), "never started");
}

// A controller that does not answer the search by name is asked again, the
// run kept waiting however long that takes: not an error that would stop
// the scheduler, and not a sign that no job exists.
TEST_F(SlurmLauncherTest, AControllerAwayDuringTheSearchByNameIsAskedAgain) {
  Launcher launcher(db(), paths_, clock_, client_, options_);
  const std::string dev = "pipeline-d-t-1-1";
  LaunchDev(launcher, dev);
  runner_.Answer("squeue", 1, "", "squeue: error: Unable to contact slurm controller (connect failure)");
  runner_.Open(/*exit_code=*/1, /*timed_out=*/true);
  TakeTheAnswer(launcher);
  clock_.Advance(client_.CommandDeadline() + kClaimGrace + 1);
  ASSERT_TRUE(launcher.Reconcile(true).ok());
  EXPECT_EQ(Row(dev).status, RunStatus::kStarting) << Row(dev).error.value_or("");
  // Back, and the job is there.
  runner_.Answer("squeue", 0, "4243|RUNNING|None|" + JobNameForRun(dev) + "\n");
  ASSERT_TRUE(launcher.Reconcile(true).ok());
  auto job = ClusterJobOfRun(db(), dev);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->value_or("none"), "4243");
}

// A kill asked by another process (`pipeline agent kill`, a cancel from the
// dashboard) reaches the job: scancel, once.
TEST_F(SlurmLauncherTest, AKillAskedThroughTheStoreCancelsTheJobOnce) {
  Launcher launcher(db(), paths_, clock_, client_, options_);
  const std::string dev = "pipeline-d-t-1-1";
  LaunchDev(launcher, dev);
  runner_.Open();
  TakeTheAnswer(launcher);
  ASSERT_EQ(ClusterJobOfRun(db(), dev)->value_or("none"), "100");
  ASSERT_EQ(Scancels("100"), 0);
  ASSERT_TRUE(RequestKill(db(), paths_, dev).ok());
  ASSERT_TRUE(launcher.Reconcile(true).ok());
  EXPECT_EQ(Scancels("100"), 1);
  ASSERT_TRUE(launcher.Reconcile(true).ok());
  EXPECT_EQ(Scancels("100"), 1) << "asked once";
}

// Switching the executor back to local while runs are out on the cluster:
// refused, unless a person gave them up.
// A kill that came while sbatch was out: the claim cancels the job, and the
// check for kill requests does not cancel it again.
TEST_F(SlurmLauncherTest, AKillBeforeSbatchAnswersCancelsTheJobOnce) {
  Launcher launcher(db(), paths_, clock_, client_, options_);
  const std::string dev = "pipeline-d-t-1-1";
  LaunchDev(launcher, dev);
  ASSERT_TRUE(RequestKill(db(), paths_, dev).ok());
  runner_.Open();
  TakeTheAnswer(launcher);
  EXPECT_EQ(Scancels("100"), 1);
}

TEST_F(SlurmLauncherTest, ALocalSchedulerRefusesRunsLeftOnAClusterUnlessGivenUp) {
  for (const char* id : {"pipeline-d-t-1-1", "pipeline-d-t-2-1", "pipeline-d-t-3-1"})
    ASSERT_TRUE(InsertRun(db(), Spec(id, "dev", dir_.path()), clock_).ok());
  ASSERT_TRUE(MarkRunForCluster(db(), "pipeline-d-t-1-1", "slurm").ok());
  ASSERT_TRUE(MarkRunForCluster(db(), "pipeline-d-t-2-1", "slurm").ok());
  ASSERT_TRUE(ClaimRunForClusterJob(db(), "pipeline-d-t-2-1", "77").ok());
  Status s = CheckNoRunsLeftOnACluster(db(), clock_, /*dry_run=*/false);
  EXPECT_EQ(s.kind(), ErrorKind::kRefused);
  EXPECT_NE(s.message().find("2 runs are still out on a Slurm cluster (pipeline-d-t-1-1 and 1 more)"),
            std::string::npos) << s.message();
  ASSERT_TRUE(RequestKill(db(), paths_, "pipeline-d-t-1-1").ok());
  s = CheckNoRunsLeftOnACluster(db(), clock_, /*dry_run=*/false);
  EXPECT_NE(s.message().find("1 run is still out on a Slurm cluster (pipeline-d-t-2-1 job 77)"), std::string::npos)
      << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << "one line";
  EXPECT_EQ(Row("pipeline-d-t-3-1").status, RunStatus::kStarting) << "a local run is not the check's";

  EXPECT_EQ(Row("pipeline-d-t-1-1").status, RunStatus::kKilled) << "given up";
  ASSERT_TRUE(RequestKill(db(), paths_, "pipeline-d-t-2-1").ok());
  EXPECT_TRUE(CheckNoRunsLeftOnACluster(db(), clock_, /*dry_run=*/true).ok());
  EXPECT_EQ(Row("pipeline-d-t-2-1").status, RunStatus::kStarting) << "a dry run changes nothing";
  EXPECT_TRUE(CheckNoRunsLeftOnACluster(db(), clock_, /*dry_run=*/false).ok());
  for (const char* id : {"pipeline-d-t-1-1", "pipeline-d-t-2-1"}) {
    EXPECT_EQ(Row(id).status, RunStatus::kKilled) << id;
    EXPECT_NE(Row(id).error.value_or("").find("given up while out on a cluster"), std::string::npos);
  }
}

// A local run never handed to a launcher is still swept: the mark is the
// cluster's alone.
TEST_F(SlurmLauncherTest, ALocalRunNeverClaimedIsStillFailed) {
  ASSERT_TRUE(InsertRun(db(), Spec("pipeline-d-t-2-1", "dev", dir_.path()), clock_).ok());
  ASSERT_TRUE(InsertRun(db(), Spec("pipeline-d-t-3-1", "dev", dir_.path()), clock_).ok());
  ASSERT_TRUE(MarkRunForCluster(db(), "pipeline-d-t-3-1", "slurm").ok());
  clock_.Advance(kNeverStartedMicros + 1'000'000);
  ASSERT_TRUE(FailUnclaimedRuns(db(), clock_.Now(), kClaimGrace).ok());
  EXPECT_EQ(Row("pipeline-d-t-2-1").status, RunStatus::kFailed);
  EXPECT_EQ(Row("pipeline-d-t-2-1").error.value_or(""), "never started");
  EXPECT_EQ(Row("pipeline-d-t-3-1").status, RunStatus::kStarting);
  // A row that stopped waiting cannot be handed over any more.
  EXPECT_EQ(MarkRunForCluster(db(), "pipeline-d-t-2-1", "slurm").kind(), ErrorKind::kRefused);
}

}  // namespace
}  // namespace pipeline::slurm
