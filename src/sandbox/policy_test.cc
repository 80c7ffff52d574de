#include "sandbox/policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace pipeline {
namespace {

using Argv = std::vector<std::string>;

// A pretend filesystem: these exist, the ones ending in '/' are directories.
const std::set<std::string>& World() {
  static const std::set<std::string> w = {"/home/p/.ssh/", "/home/p/.aws/", "/home/p/.netrc", "/home/p/.claude/",
                                          "/home/p/.claude/.credentials.json", "/repo/.pipeline/prompts/p.md",
                                          "/opt/key.pem"};
  return w;
}
bool FakeExists(const std::string& p) { return World().count(p) || World().count(p + "/"); }
bool FakeIsDir(const std::string& p) { return World().count(p + "/") > 0; }

PolicyInputs Inputs() {
  PolicyInputs in;
  in.workspace = "/repo/.pipeline/worktrees/T1";
  in.store_root = "/repo/.pipeline";
  in.private_dir = "/repo/.pipeline/sandbox/run-1";
  in.prompt_file = "/repo/.pipeline/prompts/p.md";
  in.person_home = "/home/p";
  in.settings.read_deny = {"~/.ssh", "~/.aws", "~/.netrc", "~/.claude", "~/.missing"};
  in.exists = FakeExists;
  in.is_dir = FakeIsDir;
  GitConfinement g;
  g.common_dir = "/repo/.git";
  g.worktree_gitdir = "/repo/.git/worktrees/T1";
  g.private_heads = "/repo/.pipeline/sandbox/run-1/git-heads";
  in.git = g;
  return in;
}

// Index of the first "flag a b" triple in args, or -1.
long Find(const Argv& args, const std::string& flag, const std::string& a, const std::string& b = "") {
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == flag && args[i + 1] == a && (b.empty() || (i + 2 < args.size() && args[i + 2] == b)))
      return static_cast<long>(i);
  return -1;
}

bool Has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

TEST(SandboxPolicyTest, StoreIsHiddenAndOnlyTheRunsOwnPlacesComeBackWritable) {
  SandboxPolicy p = BuildPolicy(Inputs());
  const Argv& a = p.bwrap_args;
  long tmpfs = Find(a, "--tmpfs", "/repo/.pipeline");
  long ws = Find(a, "--bind", "/repo/.pipeline/worktrees/T1", "/repo/.pipeline/worktrees/T1");
  long priv = Find(a, "--bind", "/repo/.pipeline/sandbox/run-1", "/repo/.pipeline/sandbox/run-1");
  ASSERT_GE(tmpfs, 0);
  // The workspace sits inside the store: it is bound after the store is hidden, or it would vanish.
  EXPECT_GT(ws, tmpfs);
  EXPECT_GT(priv, tmpfs);
  EXPECT_GE(Find(a, "--ro-bind", "/", "/"), 0);
  EXPECT_GE(Find(a, "--ro-bind", "/repo/.pipeline/prompts/p.md"), 0);
  EXPECT_TRUE(Has(a, "--unshare-pid"));
  EXPECT_TRUE(Has(a, "--die-with-parent"));
  EXPECT_TRUE(Has(p.writable, "/repo/.pipeline/worktrees/T1"));
  EXPECT_TRUE(Has(p.writable, "/repo/.pipeline/sandbox/run-1"));
  // Never the person's checkout, the store or the repository's .git as a whole.
  EXPECT_FALSE(Has(p.writable, "/repo"));
  EXPECT_FALSE(Has(p.writable, "/repo/.pipeline"));
  EXPECT_FALSE(Has(p.writable, "/repo/.git"));
}

TEST(SandboxPolicyTest, GitKeepsObjectsCreateOnlyAndRefsPrivate) {
  SandboxPolicy p = BuildPolicy(Inputs());
  const Argv& a = p.bwrap_args;
  EXPECT_GE(Find(a, "--bind", "/repo/.pipeline/sandbox/run-1/git-heads", "/repo/.git/refs/heads"), 0);
  EXPECT_GE(Find(a, "--tmpfs", "/repo/.git/logs"), 0);
  EXPECT_GE(Find(a, "--bind", "/repo/.git/worktrees/T1", "/repo/.git/worktrees/T1"), 0);
  EXPECT_EQ(p.create_only, (Argv{"/repo/.git/objects"}));
  EXPECT_TRUE(Has(p.writable, "/repo/.git/worktrees/T1"));
  EXPECT_TRUE(Has(p.writable, "/repo/.git/refs/heads"));
  EXPECT_FALSE(Has(p.writable, "/repo/.git/objects"));
  EXPECT_FALSE(Has(p.writable, "/repo/.git/refs/tags"));
  EXPECT_FALSE(Has(p.writable, "/repo/.git/hooks"));
}

TEST(SandboxPolicyTest, ReadDenyHidesExistingSecretsButNotTheProfilesOwnCredential) {
  PolicyInputs in = Inputs();
  in.credentials = {"~/.claude/.credentials.json", "/opt/key.pem"};
  in.settings.read_deny.push_back("/opt/key.pem");
  SandboxPolicy p = BuildPolicy(in);
  const Argv& a = p.bwrap_args;
  EXPECT_GE(Find(a, "--tmpfs", "/home/p/.ssh"), 0);
  EXPECT_GE(Find(a, "--tmpfs", "/home/p/.aws"), 0);
  EXPECT_GE(Find(a, "--tmpfs", "/home/p/.claude"), 0);
  EXPECT_GE(Find(a, "--ro-bind", "/dev/null", "/home/p/.netrc"), 0);
  EXPECT_EQ(Find(a, "--tmpfs", "/home/p/.missing"), -1);
  // The credential appears, read-only, in the run's own home; one named outside the home stays where it is.
  EXPECT_GE(Find(a, "--ro-bind", "/home/p/.claude/.credentials.json",
                 "/repo/.pipeline/sandbox/run-1/home/.claude/.credentials.json"),
            0);
  EXPECT_GE(Find(a, "--ro-bind", "/opt/key.pem", "/opt/key.pem"), 0);
  EXPECT_EQ(Find(a, "--ro-bind", "/dev/null", "/opt/key.pem"), -1);
  EXPECT_EQ(p.home, "/repo/.pipeline/sandbox/run-1/home");
}

TEST(SandboxPolicyTest, ProtectionsSwitchOffByName) {
  PolicyInputs in = Inputs();
  in.connect_ports = std::vector<int>{443};
  EXPECT_EQ(BuildPolicy(in).connect_ports, (std::vector<int>{443}));
  in.settings.off = {kProtectionNetwork, kProtectionProcesses};
  SandboxPolicy p = BuildPolicy(in);
  EXPECT_FALSE(p.connect_ports);
  EXPECT_FALSE(Has(p.bwrap_args, "--unshare-pid"));
  EXPECT_TRUE(p.landlock_fs);
  in.settings.off = {kProtectionFilesystem};
  p = BuildPolicy(in);
  EXPECT_FALSE(p.landlock_fs);
  EXPECT_EQ(Find(p.bwrap_args, "--tmpfs", "/repo/.pipeline"), -1);
}

TEST(SandboxPolicyTest, WrapRunsTheInnerStepWithTheRules) {
  PolicyInputs in = Inputs();
  in.connect_ports = std::vector<int>{8080, 443};
  SandboxPolicy p = BuildPolicy(in);
  p.rlimit_as = 1 << 30;
  Argv argv = p.Wrap({"my-agent", "--flag"}, "/bin/pipeline", "/usr/bin/bwrap");
  ASSERT_GE(argv.size(), 6u);
  EXPECT_EQ(argv[0], "/usr/bin/bwrap");
  auto inner = std::find(argv.begin(), argv.end(), "__sandbox-exec");
  ASSERT_NE(inner, argv.end());
  EXPECT_EQ(*(inner - 1), "agent");
  EXPECT_EQ(*(inner - 2), "/bin/pipeline");
  EXPECT_EQ(*(inner - 3), "--");
  EXPECT_GE(Find(argv, "--port", "8080"), 0);
  EXPECT_GE(Find(argv, "--port", "443"), 0);
  EXPECT_GE(Find(argv, "--create", "/repo/.git/objects"), 0);
  EXPECT_GE(Find(argv, "--rlimit-as", std::to_string(1 << 30)), 0);
  EXPECT_EQ(Argv(argv.end() - 3, argv.end()), (Argv{"--", "my-agent", "--flag"}));
  // The small inner program, when there is one, replaces `pipeline agent __sandbox-exec`.
  p.inner_exe = "/bin/pipeline-sandbox-exec";
  argv = p.Wrap({"my-agent"}, "/bin/pipeline", "/usr/bin/bwrap");
  auto dashdash = std::find(argv.begin(), argv.end(), "/bin/pipeline-sandbox-exec");
  ASSERT_NE(dashdash, argv.end());
  EXPECT_EQ(*(dashdash - 1), "--");
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "__sandbox-exec"), argv.end());
}

TEST(SandboxPolicyTest, EnvironmentComesFromTheAllowListOnly) {
  SandboxPolicy p = BuildPolicy(Inputs());
  std::map<std::string, std::string> inherited = {
      {"PATH", "/usr/bin"},       {"LANG", "C.UTF-8"}, {"LC_ALL", "C"},          {"TERM", "xterm"},
      {"GITHUB_TOKEN", "ghp_x"}, {"AWS_SECRET_ACCESS_KEY", "s"}, {"ANTHROPIC_API_KEY", "k"}, {"HOME", "/home/p"},
      {"PIPELINE_RUN_SOCKET", "/elsewhere"}};
  auto env = AllowedEnvironment(inherited, {"ANTHROPIC_API_KEY"}, {{"PIPELINE_TASK_ID", "T1"}, {"X", "1"}}, p);
  EXPECT_EQ(env.count("GITHUB_TOKEN"), 0u);
  EXPECT_EQ(env.count("AWS_SECRET_ACCESS_KEY"), 0u);
  EXPECT_EQ(env["ANTHROPIC_API_KEY"], "k");
  EXPECT_EQ(env["PATH"], "/usr/bin");
  EXPECT_EQ(env["LC_ALL"], "C");
  EXPECT_EQ(env["HOME"], "/repo/.pipeline/sandbox/run-1/home");
  EXPECT_EQ(env["TMPDIR"], "/repo/.pipeline/sandbox/run-1/tmp");
  EXPECT_EQ(env["PIPELINE_TASK_ID"], "T1");
  EXPECT_EQ(env["X"], "1");
  EXPECT_EQ(env["PIPELINE_RUN_SOCKET"], "/repo/.pipeline/sandbox/run-1/run.sock");
}

TEST(SandboxPolicyTest, PortsOfBaseUrls) {
  auto ports = PortsOfBaseUrls({{"ANTHROPIC_BASE_URL", "http://127.0.0.1:8123"},
                                {"OPENAI_BASE_URL", "https://api.example.com/v1"},
                                {"OTHER_BASE_URL", "http://[::1]:9000/x"},
                                {"NOT_A_URL", "http://h:1"}});
  std::sort(ports.begin(), ports.end());
  EXPECT_EQ(ports, (std::vector<int>{443, 8123, 9000}));
}

}  // namespace
}  // namespace pipeline
