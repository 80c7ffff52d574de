// Black-box tests of run confinement (docs/security.md): plain-script hostile
// agents try, from inside a real run, what a prompt-injected agent would, and
// each attempt is checked from outside (the store, the repository, the
// process table), beside the legitimate path in the same run.
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "sandbox/protections.h"
#include "testutil/testutil.h"
#include "util/text.h"

namespace pipeline {
namespace {

using nlohmann::json;
using testing::ProcessesWith;
using testing::ReadTextFile;
using testing::RunArgv;
using testing::RunPipeline;
using testing::WriteTextFile;

// A loopback TCP listener on a port of the kernel's choosing.
struct Listener {
  int fd = -1;
  int port = 0;
  Listener() {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd, 8);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Listener() { close(fd); }
  // Connections that reached us (accepted now, without waiting).
  int Accepted() {
    int n = 0;
    while (true) {
      int c = accept(fd, nullptr, nullptr);
      if (c < 0) return n;
      close(c);
      ++n;
    }
  }
};

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KernelProtections k = ProbeProtections();
    if (!RequireProtections(SandboxSettings(), k).ok()) GTEST_SKIP() << "cannot confine here: " << DescribeProtections(k);
    repo_ = dir_ / "repo";
    ASSERT_EQ(mkdir(repo_.c_str(), 0755), 0);
    testing::InitGitRepo(repo_);
    ASSERT_TRUE(Pipeline({"init"}).ok());
    task_ = CreateTask("the run's own task");
    other_ = CreateTask("another task");
    ws_ = AddWorktree(task_);
    other_ws_ = AddWorktree(other_);
    base_ = RevParse("refs/heads/main");
    ASSERT_EQ(mkdir((dir_ / "agents").c_str(), 0755), 0);
    WriteTextFile(dir_ / "prompt.md", "---\ntoolchain: cpp\n---\n\n# Do the task\n");
  }

  CommandResult Pipeline(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
    return RunPipeline(args, repo_, env);
  }

  std::string CreateTask(const std::string& title) {
    auto r = Pipeline({"task", "create", title, "--json"});
    EXPECT_TRUE(r.ok()) << r.err;
    return json::parse(r.out).value("taskId", "");
  }

  std::string AddWorktree(const std::string& id) {
    std::string path = repo_ + "/.pipeline/worktrees/" + id;
    auto r = RunArgv({"git", "-C", repo_, "worktree", "add", "--quiet", "-b", "pipeline/" + id, path, "main"});
    EXPECT_TRUE(r.ok()) << r.err;
    return path;
  }

  std::string RevParse(const std::string& ref, const std::string& where = "") {
    return Trim(RunArgv({"git", "-C", where.empty() ? repo_ : where, "rev-parse", "--verify", "-q", ref}).out);
  }

  // Runs script (bash) as a confined agent on the run's own task and waits
  // for the end. config: extra TOML (the profile is [profiles.hostile]).
  json RunAgent(const std::string& run_id, const std::string& script, const std::string& config = "",
                const std::string& profile_extra = "", const std::map<std::string, std::string>& env = {}) {
    std::string path = dir_ / ("agents/" + run_id + ".sh");
    WriteTextFile(path, "#!/usr/bin/env bash\n" + script);
    WriteTextFile(repo_ + "/.pipeline/config.toml",
                  "[agent]\nkill_grace_ms = 300\n" + config + "\n[profiles.hostile]\ncommand = [\"bash\", " +
                      json(path).dump() + "]\n" + profile_extra + "\n");
    auto r = Pipeline({"agent", "run", dir_ / "prompt.md", "-n", run_id, "--profile", "hostile", "--workspace", ws_,
                       "--task-id", task_},
                      env);
    EXPECT_TRUE(r.ok()) << r.out << r.err;
    return WaitForEnd(run_id);
  }

  json WaitForEnd(const std::string& run_id) {
    return testing::WaitForRunEnd(run_id, [&](const std::vector<std::string>& a) { return Pipeline(a); });
  }

  std::string Log(const std::string& run_id) { return Pipeline({"agent", "logs", run_id}).out; }
  std::string Comments(const std::string& task) { return Pipeline({"task", "show", task, "--json"}).out; }

  testing::TempDir dir_;
  std::string repo_, task_, other_, ws_, other_ws_, base_;
};

// The script's own account, one line per attempt: "NAME ok" or "NAME refused".
std::string Report(const std::string& log, const std::string& name) {
  for (const auto& line : Split(log, '\n')) {
    auto w = SplitWhitespace(line);
    if (w.size() == 2 && w[0] == name) return w[1];
  }
  return "missing";
}

constexpr const char* kTry = R"(try() { local name="$1"; shift; if "$@" >/dev/null 2>&1; then echo "$name ok"; else echo "$name refused"; fi; }
)";

TEST_F(SandboxTest, PipelineWritesOtherThanItsOwnQuestionAreRefused) {
  std::string fund_before = Pipeline({"fund", "report", "--json"}).out;
  std::string other_before = Comments(other_);
  json j = RunAgent("run-cli", std::string(kTry) + R"(
try grant pipeline fund grant --domain src/api --cents 99999
try update_other pipeline task update ")" + other_ + R"(" done
try claim_other pipeline task claim ")" + other_ + R"(" open in-progress
try comment_other pipeline task comment ")" + other_ + R"(" "not mine"
try comment_forged env PIPELINE_TASK_ID=")" + other_ + R"(" PIPELINE_AUTHOR=human pipeline task comment ")" + other_ + R"(" "forged"
try comment_own pipeline task comment "$PIPELINE_TASK_ID" "Which database should I use?"
try show_own pipeline task show "$PIPELINE_TASK_ID"
echo "cost_cents: 1"
)");
  std::string log = Log("run-cli");
  EXPECT_EQ(Report(log, "grant"), "refused") << log;
  EXPECT_EQ(Report(log, "update_other"), "refused") << log;
  EXPECT_EQ(Report(log, "claim_other"), "refused") << log;
  EXPECT_EQ(Report(log, "comment_other"), "refused") << log;
  EXPECT_EQ(Report(log, "comment_forged"), "refused") << log;
  EXPECT_EQ(Report(log, "comment_own"), "ok") << log;
  EXPECT_EQ(Report(log, "show_own"), "ok") << log;
  // Seen from outside: nothing moved but the question, which reached the run's task.
  EXPECT_EQ(Pipeline({"fund", "report", "--json"}).out, fund_before);
  EXPECT_EQ(Comments(other_), other_before);
  EXPECT_NE(Comments(task_).find("Which database should I use?"), std::string::npos);
  EXPECT_NE(Comments(task_).find("agent:engineer"), std::string::npos);
  EXPECT_EQ(j["status"], "needs-input") << j.dump();
}

TEST_F(SandboxTest, StoreAndOtherRunsAreOutOfReach) {
  // Another run's log, to be read by the next one.
  json first = RunAgent("run-first", "echo 'secret-log-line'\n");
  ASSERT_EQ(first["status"], "done") << first.dump();
  std::string root = repo_ + "/.pipeline";
  auto db_before = RunArgv({"sqlite3", root + "/pipeline.db", "SELECT count(*) FROM tasks"}).out;
  json j = RunAgent("run-store", std::string(kTry) + R"(
try write_store sh -c 'echo x >> ")" + root + R"(/pipeline.db"'
try sql_store sqlite3 ")" + root + R"(/pipeline.db" "DELETE FROM tasks"
try read_store test -s ")" + root + R"(/pipeline.db"
try read_other_log grep -r secret-log-line ")" + root + R"(/runs/run-first"
try write_config sh -c 'echo "[sandbox]" >> ")" + root + R"(/config.toml"'
echo hello > own-file.txt
try commit_own sh -c 'git add own-file.txt && git -c user.name=a -c user.email=a@b commit -qm "own work"'
)");
  std::string log = Log("run-store");
  for (const char* name : {"write_store", "sql_store", "read_store", "read_other_log", "write_config"})
    EXPECT_EQ(Report(log, name), "refused") << name << "\n" << log;
  EXPECT_EQ(Report(log, "commit_own"), "ok") << log;
  EXPECT_EQ(RunArgv({"sqlite3", root + "/pipeline.db", "SELECT count(*) FROM tasks"}).out, db_before);
  EXPECT_EQ(j["status"], "done") << j.dump();
}

TEST_F(SandboxTest, OnlyTheTaskBranchMovesAndOnlyTheWorkspaceIsWritten) {
  std::string other_branch = RevParse("refs/heads/pipeline/" + other_);
  WriteTextFile(repo_ + "/.git/hooks/keep", "");
  json j = RunAgent("run-git", std::string(kTry) + R"(
export GIT_AUTHOR_NAME=a GIT_AUTHOR_EMAIL=a@b GIT_COMMITTER_NAME=a GIT_COMMITTER_EMAIL=a@b
try write_checkout sh -c 'echo pwned > ")" + repo_ + R"(/pwned.txt"'
try write_hook sh -c 'echo "#!/bin/sh" > ")" + repo_ + R"(/.git/hooks/pre-commit"'
try write_git_config sh -c 'echo "[core]" >> ")" + repo_ + R"(/.git/config"'
try write_other_ws sh -c 'echo pwned > ")" + other_ws_ + R"(/pwned.txt"'
try delete_objects sh -c 'rm -rf ")" + repo_ + R"(/.git/objects/pack" && test ! -e ")" + repo_ + R"(/.git/objects/pack"'
echo work > work.txt
try commit_own sh -c 'git add work.txt && git commit -qm "task work"'
try move_main git update-ref refs/heads/main HEAD
try move_other git update-ref refs/heads/pipeline/)" + other_ + R"( HEAD
try tag git tag -f evil HEAD
try run_tests sh -c 'printf "#!/bin/sh\nmkdir -p build && echo built > build/out && t=\$(mktemp) && test -s build/out\n" > run_tests.sh && sh run_tests.sh'
)");
  std::string log = Log("run-git");
  for (const char* name : {"write_checkout", "write_hook", "write_git_config", "write_other_ws", "delete_objects"})
    EXPECT_EQ(Report(log, name), "refused") << name << "\n" << log;
  EXPECT_EQ(Report(log, "commit_own"), "ok") << log;
  EXPECT_EQ(Report(log, "run_tests"), "ok") << log;
  EXPECT_EQ(j["status"], "done") << j.dump();
  // Seen from outside: the task branch holds the commit; main, the other task and the tags did not move.
  std::string task_head = RevParse("refs/heads/pipeline/" + task_);
  EXPECT_NE(task_head, base_);
  EXPECT_EQ(RevParse(task_head + "^"), base_);
  EXPECT_EQ(j["head_commit"], task_head) << j.dump();
  EXPECT_EQ(RevParse("refs/heads/main"), base_);
  EXPECT_EQ(RevParse("refs/heads/pipeline/" + other_), other_branch);
  EXPECT_EQ(RevParse("refs/tags/evil"), "");
  EXPECT_FALSE(testing::ReadTextFile(repo_ + "/pwned.txt").size());
  EXPECT_FALSE(testing::ReadTextFile(other_ws_ + "/pwned.txt").size());
  EXPECT_EQ(ReadTextFile(repo_ + "/.git/hooks/pre-commit"), "");
  EXPECT_TRUE(RunArgv({"git", "-C", repo_, "fsck", "--no-dangling"}).ok());
}

TEST_F(SandboxTest, SecretsAndTheCallersEnvironmentStayOutside) {
  std::string secret = dir_ / "secret-token";
  WriteTextFile(secret, "s3cr3t\n");
  WriteTextFile(dir_ / "visible", "public\n");
  json j = RunAgent("run-secret", std::string(kTry) + R"(
try read_secret grep -q s3cr3t ")" + secret + R"("
try read_visible grep -q public ")" + (dir_ / "visible") + R"("
try github_token test -n "${GITHUB_TOKEN:-}"
try profile_env test "${PROFILE_SETTING:-}" = yes
try passed_credential test "${MY_MODEL_KEY:-}" = k1
try private_home sh -c 'test "$HOME" != "/root" && touch "$HOME/x" && touch "$TMPDIR/y"'
)",
                    "[sandbox]\nread_deny_extra = [" + json(secret).dump() + "]\n",
                    "env = { PROFILE_SETTING = \"yes\" }\npass_env = [\"MY_MODEL_KEY\"]\n",
                    {{"GITHUB_TOKEN", "ghp_leak"}, {"MY_MODEL_KEY", "k1"}});
  std::string log = Log("run-secret");
  EXPECT_EQ(Report(log, "read_secret"), "refused") << log;
  EXPECT_EQ(Report(log, "github_token"), "refused") << log;
  EXPECT_EQ(Report(log, "read_visible"), "ok") << log;
  EXPECT_EQ(Report(log, "profile_env"), "ok") << log;
  EXPECT_EQ(Report(log, "passed_credential"), "ok") << log;
  EXPECT_EQ(Report(log, "private_home"), "ok") << log;
  EXPECT_EQ(j["status"], "done") << j.dump();
}

TEST_F(SandboxTest, NothingTheRunStartsOutlivesIt) {
  std::string marker = "pl-sbx-" + std::to_string(getpid());
  json j = RunAgent("run-procs", "setsid bash -c 'exec -a " + marker + "-daemon sleep 1000' >/dev/null 2>&1 < /dev/null &\n"
                    "( ( exec -a " + marker + "-dfork sleep 1000 >/dev/null 2>&1 & ) & )\n"
                    "sleep 0.2\necho \"started $(pgrep -fc " + marker + ")\"\necho 'cost_cents: 1'\n");
  EXPECT_EQ(j["status"], "done") << j.dump();
  EXPECT_NE(Log("run-procs").find("started 2"), std::string::npos) << Log("run-procs");
  // The run is over: its PID namespace is gone with everything in it.
  EXPECT_EQ(ProcessesWith(marker).size(), 0u);
}

TEST_F(SandboxTest, KillingTheMonitorLeavesNoOrphan) {
  std::string marker = "pl-sbx-kill-" + std::to_string(getpid());
  std::string path = dir_ / "agents/hang.sh";
  WriteTextFile(path, "setsid bash -c 'exec -a " + marker + " sleep 1000' >/dev/null 2>&1 </dev/null &\n"
                      "echo 'cost_cents: 1'\nwhile true; do sleep 0.05; done\n");
  WriteTextFile(repo_ + "/.pipeline/config.toml",
                "[profiles.hostile]\ncommand = [\"bash\", " + json(path).dump() + "]\n");
  ASSERT_TRUE(Pipeline({"agent", "run", dir_ / "prompt.md", "-n", "run-kill", "--profile", "hostile", "--workspace",
                        ws_, "--task-id", task_})
                  .ok());
  // Wait for the daemon to exist, so there is something to leave behind.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (ProcessesWith(marker).empty() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_FALSE(ProcessesWith(marker).empty());
  auto st = json::parse(Pipeline({"agent", "status", "run-kill", "--json"}).out);
  pid_t monitor = st["monitor_pid"].get<pid_t>();
  ASSERT_GT(monitor, 1);
  ASSERT_EQ(kill(monitor, SIGKILL), 0);
  json j = WaitForEnd("run-kill");
  EXPECT_EQ(j["status"], "failed") << j.dump();
  // The sandbox dies with its monitor (bounded wait: the kernel tears the namespace down asynchronously).
  until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!ProcessesWith(marker).empty() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(ProcessesWith(marker).size(), 0u);
}

TEST_F(SandboxTest, OutboundConnectionsOnlyToTheProfilesPorts) {
  Listener allowed, denied;
  json j = RunAgent("run-net", std::string(kTry) + "try allowed_port bash -c 'exec 3<>/dev/tcp/127.0.0.1/" +
                                   std::to_string(allowed.port) + "'\n"
                                   "try other_port bash -c 'exec 3<>/dev/tcp/127.0.0.1/" +
                                   std::to_string(denied.port) + "'\n",
                    "", "net_ports = \"" + std::to_string(allowed.port) + "\"\n");
  std::string log = Log("run-net");
  EXPECT_EQ(Report(log, "allowed_port"), "ok") << log;
  EXPECT_EQ(Report(log, "other_port"), "refused") << log;
  EXPECT_EQ(allowed.Accepted(), 1);
  EXPECT_EQ(denied.Accepted(), 0);
  EXPECT_EQ(j["status"], "done") << j.dump();
}

TEST_F(SandboxTest, MemoryLimitEndsTheRunAndSmallerWorkStillRuns) {
  std::string config = "[sandbox]\nmemory_limit_mb = 64\n";
  // Positive control first: well under the limit, in a child process.
  json small = RunAgent("run-mem-ok", "bash -c 'x=$(head -c 8000000 /dev/zero | tr \"\\0\" a); echo ${#x}'\n", config);
  EXPECT_EQ(small["status"], "done") << small.dump();
  EXPECT_NE(Log("run-mem-ok").find("8000000"), std::string::npos);
  // A child holding 256 MiB.
  json big = RunAgent("run-mem-big", "bash -c 'x=$(head -c 268435456 /dev/zero | tr \"\\0\" a); echo ${#x}'\n", config);
  EXPECT_EQ(big["status"], "failed") << big.dump();
  if (ProbeMemoryControl() != MemoryControl::kNone) {
    EXPECT_EQ(big["error"], "memory limit") << big.dump();
  }
}

}  // namespace
}  // namespace pipeline
