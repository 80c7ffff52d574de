#include "sandbox/settings.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sandbox/memory_limit.h"
#include "sandbox/protections.h"

namespace pipeline {
namespace {

TEST(SandboxSettingsTest, DefaultsConfineEverything) {
  auto s = LoadSandboxSettings(Config());
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(s->enabled);
  EXPECT_TRUE(s->On(kProtectionFilesystem) && s->On(kProtectionNetwork) && s->On(kProtectionProcesses));
  EXPECT_EQ(s->min_free_bytes, 1LL << 30);
  EXPECT_NE(std::find(s->read_deny.begin(), s->read_deny.end(), "~/.ssh"), s->read_deny.end());
}

TEST(SandboxSettingsTest, ProtectionsOffByNameAndUnknownNamesRefused) {
  auto c = Config::Parse("[sandbox]\noff = [\"network\"]\nread_deny_extra = [\"/srv/secret\"]\nmemory_limit_mb = 64\n",
                         "t.toml");
  ASSERT_TRUE(c.ok());
  auto s = LoadSandboxSettings(*c);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(s->On(kProtectionNetwork));
  EXPECT_TRUE(s->On(kProtectionFilesystem));
  EXPECT_EQ(s->memory_limit_bytes, 64LL << 20);
  EXPECT_EQ(s->read_deny.back(), "/srv/secret");
  auto bad = Config::Parse("[sandbox]\noff = [\"netwrk\"]\n", "t.toml");
  ASSERT_TRUE(bad.ok());
  auto r = LoadSandboxSettings(*bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("netwrk"), std::string::npos);
}

TEST(SandboxSettingsTest, MissingProtectionRefusesUnlessSwitchedOff) {
  KernelProtections none;  // no Landlock, no bubblewrap
  SandboxSettings s;
  Status st = RequireProtections(s, none);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("sandbox.off"), std::string::npos);
  s.off = {kProtectionFilesystem, kProtectionProcesses, kProtectionNetwork};
  EXPECT_TRUE(RequireProtections(s, none).ok());
  KernelProtections full;
  full.landlock_abi = 7;
  full.bwrap = "/usr/bin/bwrap";
  full.user_namespaces = true;
  full.memory = MemoryControl::kCgroupV1;
  EXPECT_TRUE(RequireProtections(SandboxSettings(), full).ok());
  EXPECT_EQ(DescribeProtections(full),
            "filesystem: Landlock ABI 7; processes: PID namespace; network: TCP port rules; memory: cgroup v1");
  full.landlock_abi = 3;
  EXPECT_EQ(MissingProtections(SandboxSettings(), full), (std::vector<std::string>{"network"}));
}

TEST(SandboxSettingsTest, FreeMemoryReserve) {
  std::string meminfo = "MemTotal:       24000000 kB\nMemAvailable:    2097152 kB\n";
  EXPECT_EQ(ParseMemAvailable(meminfo), 2LL << 30);
  EXPECT_TRUE(CheckFreeMemory(1LL << 30, meminfo).ok());
  Status st = CheckFreeMemory(4LL << 30, meminfo);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("2048 MiB free, 4096 MiB kept free"), std::string::npos);
  EXPECT_TRUE(CheckFreeMemory(0, meminfo).ok());
}

}  // namespace
}  // namespace pipeline
