// The cluster launcher in process, its Slurm commands scripted: what it
// does while a submission is still out.
#include "slurm/launcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

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

// sbatch may take seconds on a busy controller. Meanwhile the run is the
// cluster launcher's: neither the local launcher's sweep for runs that
// never started (which runs while an integration is local) nor another
// process looking for dead monitors may fail it, or its job would run for a
// row already given up and its task would start again beside it.
TEST(SlurmLauncher, ARunWhoseSubmissionIsSlowIsNotTakenForOneThatNeverStarted) {
  TempDir dir;
  RootPaths paths{dir.path() + "/.pipeline"};
  auto db = CreateStore(paths);
  ASSERT_TRUE(db.ok()) << db.message();
  FakeClock clock;
  GatedRunner runner;
  runner.Answer("scontrol", 1, "", "slurm_load_jobs error: Invalid job id specified");
  Client client(runner, {});
  ExecutorOptions options;
  options.shared_dir = dir.path() + "/shared";
  options.self_exe = "/usr/bin/pipeline";
  Launcher launcher(**db, paths, clock, client, options);

  const std::string dev = "pipeline-d-t-1-1", integrate = "pipeline-integrate-1";
  ASSERT_TRUE(InsertRun(**db, Spec(dev, "dev", dir.path()), clock).ok());
  ASSERT_TRUE(launcher.Launch(LaunchRequest{dev, "t-1", "d", "dev"}).ok());
  // An integration on this host, its monitor alive (this process): the
  // local launcher's full look runs at every reconcile.
  ASSERT_TRUE(InsertRun(**db, Spec(integrate, "integrate", dir.path()), clock).ok());
  auto claimed = ClaimRunForMonitor(**db, integrate, getpid(), ProcessStartTime(getpid()).value_or(0));
  ASSERT_TRUE(claimed.ok()) << claimed.message();
  launcher.Adopt(*claimed);

  clock.Advance(kNeverStartedMicros + kClaimGrace + 1'000'000);
  ASSERT_TRUE(launcher.Reconcile(/*watching=*/true).ok());
  ASSERT_TRUE(ReapDeadMonitors(**db, clock).ok());
  auto row = GetRun(**db, dev);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->status, RunStatus::kStarting) << row->error.value_or("");

  // sbatch answers at last: the row is claimed by its job.
  runner.Open();
  std::optional<std::string> job;
  for (int i = 0; i < 10'000 && !job; ++i) {
    ASSERT_TRUE(launcher.Reconcile(true).ok());
    auto claim = ClusterJobOfRun(**db, dev);
    ASSERT_TRUE(claim.ok());
    job = *claim;
    if (!job) usleep(1000);
  }
  EXPECT_EQ(job.value_or("none"), "100");
  row = GetRun(**db, dev);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->status, RunStatus::kStarting) << row->error.value_or("");
  launcher.Detach(0);
}

// A local run never handed to a launcher is still swept: the mark is the
// cluster's alone.
TEST(SlurmLauncher, ALocalRunNeverClaimedIsStillFailed) {
  TempDir dir;
  RootPaths paths{dir.path() + "/.pipeline"};
  auto db = CreateStore(paths);
  ASSERT_TRUE(db.ok()) << db.message();
  FakeClock clock;
  ASSERT_TRUE(InsertRun(**db, Spec("pipeline-d-t-2-1", "dev", dir.path()), clock).ok());
  ASSERT_TRUE(InsertRun(**db, Spec("pipeline-d-t-3-1", "dev", dir.path()), clock).ok());
  ASSERT_TRUE(MarkRunForCluster(**db, "pipeline-d-t-3-1", "slurm").ok());
  clock.Advance(kNeverStartedMicros + 1'000'000);
  ASSERT_TRUE(FailUnclaimedRuns(**db, clock.Now(), kClaimGrace).ok());
  auto local = GetRun(**db, "pipeline-d-t-2-1");
  auto cluster = GetRun(**db, "pipeline-d-t-3-1");
  ASSERT_TRUE(local.ok() && cluster.ok());
  EXPECT_EQ(local->status, RunStatus::kFailed);
  EXPECT_EQ(local->error.value_or(""), "never started");
  EXPECT_EQ(cluster->status, RunStatus::kStarting);
  // A row that stopped waiting cannot be handed over any more.
  EXPECT_EQ(MarkRunForCluster(**db, "pipeline-d-t-2-1", "slurm").kind(), ErrorKind::kRefused);
}

}  // namespace
}  // namespace pipeline::slurm
