// Per-domain and per-profile job settings: read from the config, and the
// order they win in (profile > domain > [executor.slurm]; checks use the
// check partition wherever it is named).
#include <gtest/gtest.h>

#include "slurm/executor_config.h"

namespace pipeline::slurm {
namespace {

Result<std::optional<SlurmExecutor>> FromToml(const std::string& toml) {
  auto c = Config::Parse("[executor]\nkind = \"slurm\"\n" + toml, "test.toml");
  if (!c.ok()) return c.error();
  return SlurmExecutorFromConfig(*c, RootPaths{"/tmp/root/.pipeline"}, "/usr/bin/pipeline");
}

constexpr const char* kLayered = R"(
[agent]
profile = "claude-code"
[executor.slurm]
partition = "agents"
check_partition = "checks"
account = "base"
time_limit_minutes = 60
cpus = 2
mem_mb = 4096
[executor.slurm.domains."src/gpu"]
partition = "gpu"
check_partition = "gpu-checks"
cpus = 8
[executor.slurm.domains.docs]
partition = "small"
time_limit_minutes = 10
[executor.slurm.profiles.codex]
partition = "codex-nodes"
mem_mb = 1024
[executor.slurm.profiles."claude-code"]
account = "claude-acct"
)";

TEST(SlurmExecutorConfig, ReadsDomainAndProfileSections) {
  auto e = FromToml(kLayered);
  ASSERT_TRUE(e.ok()) << e.message();
  ASSERT_TRUE(e->has_value());
  const ExecutorOptions& o = (*e)->options;
  ASSERT_EQ(o.domains.size(), 2u);
  EXPECT_EQ(o.domains.at("src/gpu").partition, "gpu");
  EXPECT_EQ(o.domains.at("src/gpu").cpus, 8);
  EXPECT_FALSE(o.domains.at("src/gpu").account.has_value());
  ASSERT_EQ(o.profiles.size(), 2u);
  EXPECT_EQ(o.profiles.at("codex").mem_mb, 1024);
  EXPECT_EQ(o.default_profile, "claude-code");
}

TEST(SlurmExecutorConfig, ProfileWinsOverDomainWhichWinsOverTheExecutor) {
  auto e = FromToml(kLayered);
  ASSERT_TRUE(e.ok() && e->has_value()) << e.message();
  const ExecutorOptions& o = (*e)->options;
  // A codex dev run in src/gpu: partition and memory from the profile, cpus
  // from the domain, the rest from [executor.slurm].
  JobPlacement p = PlaceJob(o, "dev", "src/gpu", "codex");
  EXPECT_EQ(p.partition, "codex-nodes");
  EXPECT_EQ(p.mem_mb, 1024);
  EXPECT_EQ(p.cpus, 8);
  EXPECT_EQ(p.account, "base");
  EXPECT_EQ(p.time_limit_minutes, 60);
  // The default profile's section applies to a row that names no profile.
  p = PlaceJob(o, "dev", "docs", "");
  EXPECT_EQ(p.account, "claude-acct");
  EXPECT_EQ(p.partition, "small");
  EXPECT_EQ(p.time_limit_minutes, 10);
  EXPECT_EQ(p.cpus, 2);
  // A domain without a section, a profile without one: the executor's keys.
  p = PlaceJob(o, "dev", "src/api", "my-agent");
  EXPECT_EQ(p.partition, "agents");
  EXPECT_EQ(p.account, "base");
  EXPECT_EQ(p.mem_mb, 4096);
}

TEST(SlurmExecutorConfig, ChecksGoToTheCheckPartitionAndIgnoreProfiles) {
  auto e = FromToml(kLayered);
  ASSERT_TRUE(e.ok() && e->has_value()) << e.message();
  const ExecutorOptions& o = (*e)->options;
  JobPlacement p = PlaceJob(o, "verify", "src/gpu", "codex");
  EXPECT_EQ(p.partition, "gpu-checks");  // the domain's check partition
  EXPECT_EQ(p.mem_mb, 4096);             // not the profile's: a check runs no agent
  EXPECT_EQ(p.cpus, 8);                  // the domain's
  p = PlaceJob(o, "verify", "docs", "");
  EXPECT_EQ(p.partition, "checks");  // the executor's check partition over the domain's dev partition
  EXPECT_EQ(p.account, "base");
  // Without any check partition, checks go where the domain's dev runs go.
  auto plain = FromToml("[executor.slurm.domains.docs]\npartition = \"small\"\n");
  ASSERT_TRUE(plain.ok() && plain->has_value()) << plain.message();
  EXPECT_EQ(PlaceJob((*plain)->options, "verify", "docs", "").partition, "small");
  EXPECT_EQ(PlaceJob((*plain)->options, "verify", "src/api", "").partition, "");  // the cluster's default
}

TEST(SlurmExecutorConfig, BadValuesInASectionNameTheirKey) {
  auto bad_name = FromToml("[executor.slurm.domains.docs]\npartition = \"a b\"\n");
  ASSERT_FALSE(bad_name.ok());
  EXPECT_NE(bad_name.message().find("executor.slurm.domains.\"docs\".partition"), std::string::npos)
      << bad_name.message();
  auto zero = FromToml("[executor.slurm.profiles.codex]\ncpus = 0\n");
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.message().find("executor.slurm.profiles.\"codex\".cpus must be at least 1"), std::string::npos)
      << zero.message();
  // The strict schema: a check partition is a domain's setting, not a profile's.
  auto misplaced = FromToml("[executor.slurm.profiles.codex]\ncheck_partition = \"x\"\n");
  ASSERT_FALSE(misplaced.ok());
  EXPECT_NE(misplaced.message().find("check_partition"), std::string::npos) << misplaced.message();
}

}  // namespace
}  // namespace pipeline::slurm
