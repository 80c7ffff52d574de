// `pipeline run` with [executor] kind = "slurm" against a real one-node
// cluster: dev and verify runs are batch jobs, the merge queue stays here.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "sched_fixture.h"
#include "slurm/cluster.h"

namespace pipeline::testing {
namespace {

std::string SlurmConfig(const std::string& conf, const std::string& agent, const std::string& extra = "") {
  return "[fund]\ndefault_budget_cents = 100000\n"
         "[scheduler]\nbackoff_base_s = 0\nreserve_cents = 10\nintegrate_retry_s = 1\n" + extra +
         "\n[agent]\nprofile = \"t\"\n" + ProfileToml("t", {agent}) +
         "[verify]\ncommand = [\"test\", \"-f\", \"README.md\"]\n"
         "[executor]\nkind = \"slurm\"\n[executor.slurm]\nslurm_conf = \"" + conf + "\"\npoll_ms = 100\n";
}

// An agent that commits one file and reports 7 cents.
std::string CostlyCommitAgent(const std::string& dir) {
  std::string path = dir + "/agent.sh";
  WriteTextFile(path,
                "#!/bin/sh\nset -e\necho \"work for $PIPELINE_TASK_ID\" > \"work-$PIPELINE_TASK_ID.txt\"\n"
                "git add -A\ngit commit -q -m \"work on $PIPELINE_TASK_ID\"\necho 'cost_cents: 7'\n");
  chmod(path.c_str(), 0755);
  return path;
}

TEST(SchedSlurm, WholePipelineOnSlurmLandsEveryTaskWithExactCosts) {
  std::string conf = EnsureSlurmCluster();
  ASSERT_FALSE(::testing::Test::HasFailure());
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(), SlurmConfig(conf, CostlyCommitAgent(repo.dir())));
  std::vector<std::string> ids = {repo.Task("api change", std::string("src/api")),
                                  repo.Task("docs change", std::string("docs")),
                                  repo.Task("cli change", std::string("src/cli"))};
  auto r = repo.Run({"--until-idle"}, 180000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  for (const std::string& id : ids) {
    EXPECT_EQ(repo.Status(id), "done") << id << "\n" << r.err;
    auto show = RunArgv({"git", "-C", repo.dir(), "show", "main:work-" + id + ".txt"});
    EXPECT_TRUE(show.ok()) << id << ": " << show.err;
  }
  // Dev and verify runs went through Slurm; integration stayed here.
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE phase IN ('dev', 'verify') AND cluster_job IS NULL"), 0);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE phase = 'dev' AND status = 'done'"), 3);
  EXPECT_GE(repo.Int("SELECT COUNT(*) FROM runs WHERE phase = 'integrate' AND cluster_job IS NULL"), 3);
  // Costs exact: 7 cents per dev run, settled once each, no hold left.
  EXPECT_EQ(repo.Int("SELECT IFNULL(SUM(cents), 0) FROM ledger WHERE kind = 'spend'"), 21);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM holds WHERE state = 'held'"), 0);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM holds WHERE state = 'settled'"), 3);
  EXPECT_EQ(repo.Int("SELECT COUNT(DISTINCT cluster_job) FROM runs WHERE cluster_job IS NOT NULL"),
            repo.Int("SELECT COUNT(*) FROM runs WHERE cluster_job IS NOT NULL"));
}

TEST(SchedSlurm, MisconfiguredExecutorIsAOneLineErrorAndStartsNothing) {
  std::string conf = EnsureSlurmCluster();
  SchedRepo repo("");
  std::string cfg = SlurmConfig(conf, "true");
  cfg.replace(cfg.find("kind = \"slurm\""), 14, "kind = \"slurm-cluster\"");
  WriteTextFile(repo.paths().config(), cfg);
  std::string id = repo.Task("a change", std::string("src/api"));
  auto r = repo.Run({"--until-idle"}, 60000);
  EXPECT_NE(r.exit.exit_code, 0);
  EXPECT_NE(r.err.find("executor.kind"), std::string::npos) << r.err;
  EXPECT_EQ(repo.Status(id), "open");
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs"), 0);
}

}  // namespace
}  // namespace pipeline::testing
