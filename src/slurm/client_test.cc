#include "slurm/client.h"

#include <gtest/gtest.h>

#include "slurm/slurm_testing.h"

namespace pipeline::slurm {
namespace {

SubmitRequest Request() {
  SubmitRequest r;
  r.job_name = "pl-r-42";
  r.partition = "debug";
  r.script = "/shared/pipeline-job.sh";
  r.args = {"/usr/bin/pipeline", "agent", "__monitor", "r-42", "--root", "/srv/with space; rm -rf ~"};
  return r;
}

TEST(SlurmClientTest, SubmitPassesTheRunsArgvAsScriptArgumentsNeverAsShellText) {
  ScriptedRunner runner;
  runner.Answer(0, "17\n");
  Client c(runner, {.slurm_conf = "/tmp/s.conf"});
  auto id = c.Submit(Request());
  ASSERT_TRUE(id.ok()) << id.message();
  EXPECT_EQ(*id, "17");
  ASSERT_EQ(runner.calls.size(), 1u);
  const auto& argv = runner.calls[0].argv;
  ASSERT_GE(argv.size(), 6u);
  EXPECT_EQ(argv[0], "sbatch");
  EXPECT_EQ(argv[argv.size() - 7], "/shared/pipeline-job.sh");
  EXPECT_EQ(argv.back(), "/srv/with space; rm -rf ~");  // one element, untouched
  for (const auto& a : argv) EXPECT_NE(a, "--wrap");
  EXPECT_EQ(runner.calls[0].env_set.at("SLURM_CONF"), "/tmp/s.conf");
  EXPECT_GT(runner.calls[0].timeout_ms, 0);
}

TEST(SlurmClientTest, BadNamesAreRefusedBeforeAnythingRuns) {
  ScriptedRunner runner;
  Client c(runner, {});
  SubmitRequest r = Request();
  r.partition = "debug,strict";
  EXPECT_EQ(c.Submit(r).kind(), ErrorKind::kInvalidArgument);
  r = Request();
  r.job_name = "a b";
  EXPECT_EQ(c.Submit(r).kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(c.Query("12; scancel 1").kind(), ErrorKind::kInvalidArgument);
  EXPECT_TRUE(runner.calls.empty());
}

TEST(SlurmClientTest, SbatchFailureKeepsSlurmsWordsAndKind) {
  ScriptedRunner runner;
  runner.Answer(1, "", "sbatch: error: invalid partition specified: nope\nsbatch: error: Batch job submission failed\n");
  runner.Answer(1, "", "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)\n");
  Client c(runner, {});
  auto refused = c.Submit(Request());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.kind(), ErrorKind::kRefused);
  EXPECT_NE(refused.message().find("invalid partition specified"), std::string::npos);
  auto down = c.Submit(Request());
  EXPECT_EQ(down.kind(), ErrorKind::kUnavailable);
}

TEST(SlurmClientTest, QueryFallsBackToAccountingOncePurged) {
  ScriptedRunner runner;
  runner.Answer(1, "", "slurm_load_jobs error: Invalid job id specified\n");
  runner.Answer(0, "9|pl-r-1|COMPLETED|0:0\n9|pl-r-1|TIMEOUT|0:0\n");
  Client c(runner, {});
  auto q = c.Query("9");
  ASSERT_TRUE(q.ok()) << q.message();
  ASSERT_TRUE(q->has_value());
  EXPECT_EQ((*q)->state, JobState::kTimeout);  // the last record of the id
  EXPECT_TRUE((*q)->from_accounting);
  EXPECT_EQ(runner.calls[1].argv[0], "sacct");
}

TEST(SlurmClientTest, QueryOfAnIdNobodyKnowsIsEmptyNotAnError) {
  ScriptedRunner runner;
  runner.Answer(1, "", "slurm_load_jobs error: Invalid job id specified\n");
  runner.Answer(0, "");
  Client c(runner, {});
  auto q = c.Query("404");
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(q->has_value());
}

TEST(SlurmClientTest, OtherScontrolFailuresAreNotMistakenForAPurgedJob) {
  ScriptedRunner runner;
  runner.Answer(1, "", "slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n");
  Client c(runner, {});
  auto q = c.Query("5");
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.kind(), ErrorKind::kUnavailable);
  EXPECT_EQ(runner.calls.size(), 1u);
}

TEST(SlurmClientTest, FindByNameMergesQueueAndAccountingWithoutDuplicates) {
  ScriptedRunner runner;
  runner.Answer(0, "31|RUNNING|None|pl-r-1\n");
  runner.Answer(0, "30|pl-r-1|NODE_FAIL|0:0\n31|pl-r-1|COMPLETED|0:0\n32|pl-r-10|COMPLETED|0:0\n");
  Client c(runner, {});
  auto jobs = c.FindByName("pl-r-1");
  ASSERT_TRUE(jobs.ok()) << jobs.message();
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].id, "31");
  EXPECT_EQ((*jobs)[0].state, JobState::kRunning);  // the controller's view wins
  EXPECT_EQ((*jobs)[1].id, "30");
}

TEST(SlurmClientTest, PingReportsADownController) {
  ScriptedRunner runner;
  runner.Answer(0, "Slurmctld(primary) at vm is UP\n");
  runner.Answer(1, "Slurmctld(primary) at vm is DOWN\n");
  Client c(runner, {});
  EXPECT_TRUE(c.Ping().ok());
  Status down = c.Ping();
  EXPECT_EQ(down.kind(), ErrorKind::kUnavailable);
}

}  // namespace
}  // namespace pipeline::slurm

namespace pipeline::slurm {
namespace {

TEST(SlurmClientTest, QueueStatesAsksOnceForEveryJob) {
  ScriptedRunner runner;
  runner.Answer(0, "7|RUNNING|None|pl-a\n9|PENDING|Resources|pl-b\n");
  Client c(runner, {});
  auto states = c.QueueStates({"7", "8", "9"});
  ASSERT_TRUE(states.ok()) << states.message();
  ASSERT_EQ(runner.calls.size(), 1u);
  EXPECT_EQ(runner.calls[0].argv[0], "squeue");
  EXPECT_NE(std::find(runner.calls[0].argv.begin(), runner.calls[0].argv.end(), "7,8,9"), runner.calls[0].argv.end());
  EXPECT_EQ(states->size(), 2u);
  EXPECT_EQ(states->at("9").reason, "Resources");
  EXPECT_FALSE(states->count("8"));  // purged: the caller asks Query
  EXPECT_EQ(c.QueueStates({"7; rm"}).kind(), ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace pipeline::slurm
