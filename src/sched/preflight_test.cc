#include "sched/preflight.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "testutil/testutil.h"

namespace pipeline {
namespace {

Config Parse(const std::string& text) {
  auto c = Config::Parse(text, "config.toml");
  EXPECT_TRUE(c.ok()) << c.message();
  return c.ok() ? std::move(*c) : Config();
}

SchedulerOptions Options(const Config& c) {
  auto o = OptionsFromConfig(c);
  EXPECT_TRUE(o.ok()) << o.message();
  return o.ok() ? *o : SchedulerOptions{};
}

// A finder that knows only these programs.
ProgramFinder Only(std::vector<std::string> known) {
  return [known](const std::string& p, const std::string&) -> std::optional<std::string> {
    for (const auto& k : known)
      if (k == p) return "/bin/" + p;
    return std::nullopt;
  };
}

const RootPaths kPaths{"/repo/.pipeline"};

TEST(PreflightVerify, MustBeDecided) {
  Config c = Parse("");
  auto r = CheckVerify(Options(c), kPaths, Only({"make"}));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].level, CheckLevel::kProblem);
  EXPECT_NE(r[0].message.find("no verify command"), std::string::npos);
  EXPECT_NE(r[0].message.find("command = []"), std::string::npos);  // the fix names the way out
}

TEST(PreflightVerify, SwitchedOffIsANoteAndReviewNeedsNoDecision) {
  auto off = CheckVerify(Options(Parse("[verify]\ncommand = []\n")), kPaths, Only({}));
  ASSERT_EQ(off.size(), 1u);
  EXPECT_EQ(off[0].level, CheckLevel::kNote);
  EXPECT_NE(off[0].message.find("verification is off"), std::string::npos);
  auto review = CheckVerify(Options(Parse("[scheduler]\nafter_run = \"review\"\n")), kPaths, Only({}));
  ASSERT_EQ(review.size(), 1u);
  EXPECT_EQ(review[0].level, CheckLevel::kOk);
  EXPECT_FALSE(HasProblem(review));
}

TEST(PreflightVerify, ProgramsMustBeFoundForEveryDomain) {
  Config c = Parse("[verify]\ncommand = [\"make\", \"check\"]\n[verify.domains.\"docs\"]\ncommand = [\"mdlint\"]\n");
  auto r = CheckVerify(Options(c), kPaths, Only({"make"}));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].level, CheckLevel::kOk);
  EXPECT_EQ(r[1].level, CheckLevel::kProblem);
  EXPECT_NE(r[1].message.find("mdlint in domain docs is not found"), std::string::npos) << r[1].message;
  EXPECT_FALSE(HasProblem(CheckVerify(Options(c), kPaths, Only({"make", "mdlint"}))));
}

TEST(PreflightAgent, NoneChosenMisspelledOrNotInstalled) {
  Config none = Parse("");
  CheckResult r = CheckAgent(none, Options(none), kPaths, Only({"claude"}));
  EXPECT_EQ(r.level, CheckLevel::kProblem);
  EXPECT_NE(r.message.find("no agent chosen"), std::string::npos);

  Config typo = Parse("[agent]\nprofile = \"codx\"\n");
  r = CheckAgent(typo, Options(typo), kPaths, Only({"codex"}));
  EXPECT_EQ(r.level, CheckLevel::kProblem);
  EXPECT_NE(r.message.find("did you mean codex?"), std::string::npos) << r.message;

  Config mine = Parse("[agent]\nprofile = \"mine\"\n[profiles.mine]\ncommand = [\"my-agent\", \"{prompt_file}\"]\n");
  r = CheckAgent(mine, Options(mine), kPaths, Only({}));
  EXPECT_EQ(r.level, CheckLevel::kProblem);
  EXPECT_NE(r.message.find("the agent program my-agent (profile mine) is not found"), std::string::npos) << r.message;
  r = CheckAgent(mine, Options(mine), kPaths, Only({"my-agent"}));
  EXPECT_EQ(r.level, CheckLevel::kOk) << r.message;

  // --profile (scheduler.profile) wins over agent.profile.
  SchedulerOptions o = Options(mine);
  o.profile = "claude-code";
  EXPECT_EQ(CheckAgent(mine, o, kPaths, Only({"claude"})).level, CheckLevel::kOk);
  EXPECT_EQ(CheckAgent(mine, o, kPaths, Only({"my-agent"})).level, CheckLevel::kProblem);
}

TEST(PreflightWorkspace, GitRepositoryWithTheBaseBranch) {
  testing::TempDir plain;
  RootPaths outside{plain.path() + "/.pipeline"};
  SchedulerOptions o;
  CheckResult r = CheckWorkspace(o, outside, RealProcessRunner());
  EXPECT_EQ(r.level, CheckLevel::kProblem);
  EXPECT_NE(r.message.find("is not a git repository"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("git init"), std::string::npos);
  o.shared_workspace = true;
  EXPECT_EQ(CheckWorkspace(o, outside, RealProcessRunner()).level, CheckLevel::kOk);

  testing::TempDir repo;
  testing::InitGitRepo(repo.path());
  RootPaths inside{repo.path() + "/.pipeline"};
  SchedulerOptions w;
  r = CheckWorkspace(w, inside, RealProcessRunner());
  EXPECT_EQ(r.level, CheckLevel::kOk) << r.message;
  EXPECT_NE(r.message.find("merged into main"), std::string::npos);
  w.base = "release";
  r = CheckWorkspace(w, inside, RealProcessRunner());
  EXPECT_EQ(r.level, CheckLevel::kProblem);
  EXPECT_NE(r.message.find("the base branch release does not exist"), std::string::npos) << r.message;
}

KernelProtections FullKernel() {
  KernelProtections k;
  k.landlock_abi = 7;
  k.bwrap = "/usr/bin/bwrap";
  k.user_namespaces = true;
  k.memory = MemoryControl::kCgroupV2;
  return k;
}

TEST(PreflightSandbox, SaysWhatTheKernelGivesAndRefusesWhatIsMissing) {
  Config claude = Parse("[agent]\nprofile = \"claude-code\"\n");
  auto full = CheckSandbox(claude, Options(claude), FullKernel());
  ASSERT_EQ(full.size(), 1u);
  EXPECT_EQ(full[0].level, CheckLevel::kOk);
  EXPECT_EQ(full[0].message, "confined runs: filesystem: Landlock ABI 7; processes: PID namespace; network: TCP port "
                             "rules; memory: cgroup v2");

  // Landlock ABI 3 has no TCP rules: claude-code names port 443, so it is a problem...
  KernelProtections old = FullKernel();
  old.landlock_abi = 3;
  auto missing = CheckSandbox(claude, Options(claude), old);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].level, CheckLevel::kProblem);
  EXPECT_NE(missing[0].message.find("sandbox.off = [\"network\"]"), std::string::npos) << missing[0].message;
  // ...and a profile without ports needs none.
  Config command = Parse("[agent]\nprofile = \"mine\"\n[profiles.mine]\ncommand = [\"my-agent\"]\n");
  EXPECT_EQ(CheckSandbox(command, Options(command), old)[0].level, CheckLevel::kOk);

  // Switched off by name: it starts, and the switch is said.
  Config off = Parse("[agent]\nprofile = \"claude-code\"\n[sandbox]\noff = [\"network\"]\n");
  auto allowed = CheckSandbox(off, Options(off), old);
  ASSERT_EQ(allowed.size(), 2u);
  EXPECT_EQ(allowed[0].level, CheckLevel::kOk);
  EXPECT_EQ(allowed[1].level, CheckLevel::kNote);
  EXPECT_EQ(allowed[1].message, "sandbox off: network (sandbox.off)");

  // No bubblewrap: filesystem and processes are missing.
  KernelProtections bare = FullKernel();
  bare.bwrap.clear();
  auto none = CheckSandbox(claude, Options(claude), bare);
  EXPECT_EQ(none[0].level, CheckLevel::kProblem);
  EXPECT_NE(none[0].message.find("\"filesystem\", \"processes\""), std::string::npos) << none[0].message;

  Config disabled = Parse("[agent]\nprofile = \"claude-code\"\n[sandbox]\nenabled = false\n");
  auto not_confined = CheckSandbox(disabled, Options(disabled), bare);
  ASSERT_EQ(not_confined.size(), 1u);
  EXPECT_EQ(not_confined[0].level, CheckLevel::kNote);
  EXPECT_NE(not_confined[0].message.find("not confined"), std::string::npos);

  Config typo = Parse("[sandbox]\noff = [\"net\"]\n");
  EXPECT_EQ(CheckSandbox(typo, Options(typo), FullKernel())[0].level, CheckLevel::kProblem);
}

TEST(FindProgram, PathAndRelativeToTheWorktree) {
  EXPECT_TRUE(FindProgram("sh", "/").has_value());
  EXPECT_FALSE(FindProgram("no-such-program-anywhere", "/").has_value());
  testing::TempDir dir;
  testing::WriteTextFile(dir.path() + "/check.sh", "#!/bin/sh\n");
  EXPECT_FALSE(FindProgram("./check.sh", dir.path()).has_value());  // not executable
  ASSERT_EQ(chmod((dir.path() + "/check.sh").c_str(), 0755), 0);
  EXPECT_EQ(FindProgram("./check.sh", dir.path()), dir.path() + "/./check.sh");
}

}  // namespace
}  // namespace pipeline
