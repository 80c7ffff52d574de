// `pipeline doctor` with [executor] kind = "slurm" against the real one-node
// cluster: a line per cluster check, and a clear problem line (exit non-zero)
// for a partition the cluster does not have.
#include <gtest/gtest.h>

#include "sched_fixture.h"
#include "slurm/cluster.h"

namespace pipeline::testing {
namespace {

std::string DoctorConfig(const std::string& conf, const std::string& slurm_extra) {
  return "[fund]\ndefault_budget_cents = 1000\n[agent]\nprofile = \"t\"\n" + ProfileToml("t", {"true"}) + "[verify]\ncommand = []\n" +
         "[executor]\nkind = \"slurm\"\n[executor.slurm]\nslurm_conf = \"" + conf + "\"\n" + slurm_extra;
}

// The lines of the doctor's output that are about the cluster.
std::vector<std::string> ClusterLines(const std::string& out) {
  std::vector<std::string> lines;
  size_t at = 0;
  while (at < out.size()) {
    size_t nl = out.find('\n', at);
    std::string line = out.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
    if (line.find(" cluster ") != std::string::npos) lines.push_back(line);
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  return lines;
}

TEST(DoctorCluster, ChecksTheControllerThePartitionsAndTheSharedDirectory) {
  std::string conf = EnsureSlurmCluster();
  ASSERT_FALSE(::testing::Test::HasFailure());
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(), DoctorConfig(conf, "check_partition = \"strict\"\n"));
  auto r = RunPipeline({"doctor"}, repo.dir(), {}, 60000);
  EXPECT_EQ(r.exit.exit_code, 0) << r.out << r.err;
  auto lines = ClusterLines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0].rfind("ok", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("scontrol ping"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("partition debug (the cluster's default) for executor.slurm.partition is UP"),
            std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("partition strict for executor.slurm.check_partition is UP"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[3].rfind("ok", 0), 0u) << lines[3];
  EXPECT_NE(lines[3].find("wrote in the shared directory"), std::string::npos) << lines[3];
  // The test cluster schedules batch jobs without delay (scripts/slurm-cluster.sh).
  EXPECT_EQ(lines[4].rfind("ok", 0), 0u) << lines[4];
  EXPECT_NE(lines[4].find("within about a second (batch_sched_delay=0)"), std::string::npos) << lines[4];
}

TEST(DoctorCluster, AWrongPartitionIsAClearProblemLine) {
  std::string conf = EnsureSlurmCluster();
  ASSERT_FALSE(::testing::Test::HasFailure());
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(), DoctorConfig(conf, "partition = \"nosuch\"\n"));
  auto r = RunPipeline({"doctor"}, repo.dir(), {}, 60000);
  EXPECT_NE(r.exit.exit_code, 0) << r.out;
  auto lines = ClusterLines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;  // the controller answers; the partition does not exist; no probe
  EXPECT_EQ(lines[1].rfind("problem", 0), 0u) << lines[1];
  EXPECT_NE(lines[1].find("executor.slurm.partition \"nosuch\" is not a partition of this cluster; use one of: "
                          "debug (default), strict"),
            std::string::npos)
      << lines[1];
}

TEST(DoctorCluster, AControllerThatDoesNotAnswerIsAProblemLine) {
  std::string conf = EnsureSlurmCluster();
  ASSERT_FALSE(::testing::Test::HasFailure());
  SchedRepo repo("");
  // A slurm.conf naming a port nothing listens on.
  std::string text = ReadTextFile(conf), port = "SlurmctldPort=";
  size_t at = text.find(port);
  ASSERT_NE(at, std::string::npos);
  text.replace(at + port.size(), text.find('\n', at) - at - port.size(), "1");
  std::string dead = repo.dir() + "/dead-slurm.conf";
  WriteTextFile(dead, text);
  WriteTextFile(repo.paths().config(), DoctorConfig(dead, ""));
  auto r = RunPipeline({"doctor"}, repo.dir(), {}, 90000);
  EXPECT_NE(r.exit.exit_code, 0) << r.out;
  auto lines = ClusterLines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  EXPECT_EQ(lines[0].rfind("problem", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("does not answer"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace pipeline::testing
