// The doctor's cluster checks against scripted Slurm answers: the lines a
// person reads, and what is not tried after a check that failed.
#include "slurm/doctor.h"

#include <gtest/gtest.h>

#include "slurm/slurm_testing.h"

namespace pipeline::slurm {
namespace {

constexpr const char* kPartitions =
    "PartitionName=debug AllowGroups=ALL Default=YES QoS=N/A State=UP TotalCPUs=2\n"
    "PartitionName=strict AllowGroups=ALL Default=NO QoS=N/A State=DRAIN TotalCPUs=2\n";

TEST(SlurmDoctor, PartitionLinesAreParsed) {
  auto p = ParsePartitionLine("PartitionName=debug AllowGroups=ALL Default=YES State=UP");
  ASSERT_TRUE(p.ok()) << p.message();
  EXPECT_EQ(p->name, "debug");
  EXPECT_TRUE(p->is_default);
  EXPECT_EQ(p->state, "UP");
  EXPECT_FALSE(ParsePartitionLine("AllowGroups=ALL Default=YES").ok());
}

TEST(SlurmDoctor, AControllerThatDoesNotAnswerStopsTheChecks) {
  ScriptedRunner runner;
  runner.Answer(1, "Slurmctld(primary) at vm is DOWN\n");
  Client client(runner, {});
  FakeClock clock;
  ExecutorOptions o;
  o.shared_dir = "/nonexistent/shared";
  auto lines = CheckCluster(client, o, "/etc/slurm/slurm.conf", clock);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].level, CheckLevel::kProblem);
  EXPECT_NE(lines[0].message.find("does not answer `scontrol ping` (SLURM_CONF=/etc/slurm/slurm.conf)"),
            std::string::npos)
      << lines[0].message;
  EXPECT_EQ(runner.calls.size(), 1u);
}

TEST(SlurmDoctor, AnUnknownPartitionIsAProblemAndNoProbeIsSubmitted) {
  ScriptedRunner runner;
  runner.Answer(0, "Slurmctld(primary) at vm is UP\n");
  runner.Answer(0, kPartitions);
  Client client(runner, {});
  FakeClock clock;
  ExecutorOptions o;
  o.shared_dir = "/nonexistent/shared";
  o.partition = "agents";
  o.check_partition = "strict";
  auto lines = CheckCluster(client, o, "", clock);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].level, CheckLevel::kOk);
  EXPECT_EQ(lines[1].level, CheckLevel::kProblem);
  EXPECT_EQ(lines[1].message,
            "executor.slurm.partition \"agents\" is not a partition of this cluster; use one of: debug (default), strict");
  EXPECT_EQ(lines[2].level, CheckLevel::kWarning);  // strict is DRAIN
  EXPECT_NE(lines[2].message.find("is DRAIN"), std::string::npos) << lines[2].message;
  for (const auto& call : runner.calls) EXPECT_NE(call.argv[0], "sbatch");
}

}  // namespace
}  // namespace pipeline::slurm

namespace pipeline::slurm {
namespace {

TEST(SlurmDoctor, BatchSchedulingIsReadFromTheControllersConfig) {
  auto tuned = ParseBatchScheduling(
      "Configuration data as of 2026-12-01T23:16:55\nSchedulerParameters     = batch_sched_delay=0,sched_min_interval=0\n"
      "SchedulerType           = sched/backfill\n");
  ASSERT_TRUE(tuned.has_value());
  EXPECT_EQ(tuned->batch_sched_delay_s, 0);
  EXPECT_FALSE(tuned->defer);
  auto defaults = ParseBatchScheduling("SchedulerParameters     = (null)\n");
  ASSERT_TRUE(defaults.has_value());
  EXPECT_EQ(defaults->batch_sched_delay_s, 3) << "Slurm's default";
  auto deferred = ParseBatchScheduling("SchedulerParameters     = defer,bf_interval=60\n");
  ASSERT_TRUE(deferred.has_value());
  EXPECT_TRUE(deferred->defer);
  EXPECT_FALSE(ParseBatchScheduling("SchedulerType = sched/backfill\n").has_value());
}

}  // namespace
}  // namespace pipeline::slurm
