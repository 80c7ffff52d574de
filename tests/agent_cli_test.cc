// Black-box tests of `pipeline agent`: real monitor processes, real scripted
// agents (tests/agents/*.sh), real git.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "proc/process.h"
#include "testutil/testutil.h"
#include "util/text.h"

namespace pipeline {
namespace {

using nlohmann::json;
using testing::ReadTextFile;
using testing::RunArgv;
using testing::RunPipeline;
using testing::WriteTextFile;

std::string Agent(const std::string& name) { return testing::SourceDir() + "/tests/agents/" + name; }

class AgentCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = dir_ / "repo";
    ASSERT_EQ(mkdir(repo_.c_str(), 0755), 0);
    testing::InitGitRepo(repo_);
    auto r = RunPipeline({"init"}, repo_);
    ASSERT_TRUE(r.ok()) << r.err;
    WriteConfig("");
  }

  // Profiles for every scripted agent, a short kill grace, plus extra TOML.
  void WriteConfig(const std::string& extra) {
    std::string c = "[agent]\nkill_grace_ms = 300\n" + extra + "\n";
    auto profile = [&](const std::string& name, const std::vector<std::string>& argv,
                       const std::string& reader = "command") {
      c += "[profiles." + name + "]\nreader = \"" + reader + "\"\ncommand = [";
      for (size_t i = 0; i < argv.size(); ++i) c += (i ? ", " : "") + json(argv[i]).dump();
      c += "]\n";
    };
    profile("commit", {"bash", Agent("commit_agent.sh"), "{prompt_file}"});
    profile("hang", {"bash", Agent("hang_agent.sh"), dir_ / "hang.pids"});
    profile("daemon", {"bash", Agent("daemon_agent.sh"), dir_ / "daemon.pid"});
    profile("flood", {"bash", Agent("flood_agent.sh"), "200000000"});
    profile("stream", {"bash", Agent("stream_json_agent.sh"),
                       testing::SourceDir() + "/tests/fixtures/claude_stream_expensive.jsonl"},
            "claude-code");
    profile("question", {"bash", Agent("question_agent.sh")});
    profile("slow", {"bash", Agent("slow_agent.sh"), "1"});
    profile("fail", {"bash", Agent("fail_agent.sh")});
    profile("quiet-fail", {"sh", "-c", "echo building; echo nothing to commit, working tree clean; exit 1"});
    profile("json-fail", {"sh", "-c", "echo '{\"type\":\"system\"}'; exit 1"});
    profile("missing", {"/nonexistent/agent-binary", "{prompt_file}"});
    WriteTextFile(repo_ + "/.pipeline/config.toml", c);
  }

  std::string WritePrompt(const std::string& name, const std::string& frontmatter) {
    std::string path = dir_ / name;
    WriteTextFile(path, "---\ntoolchain: cpp\nworkspace: .\n" + frontmatter + "---\n\n# Do the task\n\n");
    return path;
  }

  CommandResult Pipeline(const std::vector<std::string>& args) { return RunPipeline(args, repo_); }

  json Status(const std::string& run_id) {
    auto r = Pipeline({"agent", "status", run_id, "--json"});
    auto j = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r.out << r.err;
    return j;
  }

  // Polls status until the run ends (or 30 s pass).
  json WaitForEnd(const std::string& run_id) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    json j;
    while (std::chrono::steady_clock::now() < until) {
      j = Status(run_id);
      if (j.value("status", "") != "running") return j;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "run " << run_id << " did not end: " << j.dump();
    return j;
  }

  std::string Head() { return Trim(RunArgv({"git", "-C", repo_, "rev-parse", "HEAD"}).out); }

  testing::TempDir dir_;
  std::string repo_;
};

bool PidAlive(pid_t pid) { return ProcessAlive(pid, 0); }

std::vector<pid_t> ReadPids(const std::string& path) {
  std::vector<pid_t> out;
  for (const auto& s : SplitWhitespace(ReadTextFile(path)))
    if (auto v = ParseInt64(s)) out.push_back(static_cast<pid_t>(*v));
  return out;
}

TEST_F(AgentCliTest, AgentThatCommitsEndsDoneWithItsCost) {
  std::string before = Head();
  auto r = Pipeline({"agent", "run", WritePrompt("p.md", "profile: commit\ntask_id: t-9\n"), "-n", "run-1"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(Trim(r.out), "run-1");
  json j = WaitForEnd("run-1");
  EXPECT_EQ(j["status"], "done") << j.dump();
  EXPECT_TRUE(j["cost_cents"].is_number());
  EXPECT_DOUBLE_EQ(j["cost_cents"].get<double>(), 12.5);
  EXPECT_EQ(j["turns"], 2);
  EXPECT_EQ(j["exit_code"], 0);
  EXPECT_TRUE(j["error"].is_null());
  EXPECT_EQ(j["head_before"], before);
  EXPECT_NE(j["head_commit"], before);
  EXPECT_EQ(j["head_commit"], Head());
  EXPECT_EQ(j["task_id"], "t-9");
  EXPECT_NE(ReadTextFile(repo_ + "/work.txt").find("run run-1 for task t-9"), std::string::npos);
  EXPECT_NE(ReadTextFile(j["stdout_log"]).find("cost_cents: 12.5"), std::string::npos);
  EXPECT_EQ(ReadTextFile(j["stderr_log"]), "progress on stderr\n");
  auto logs = Pipeline({"agent", "logs", "run-1", "--stderr"});
  EXPECT_EQ(logs.out, "progress on stderr\n");
  // The run id is taken now.
  auto again = Pipeline({"agent", "run", dir_ / "p.md", "-n", "run-1"});
  EXPECT_EQ(again.exit.exit_code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
}

TEST_F(AgentCliTest, ActsTheSameAsAgentd) {
  std::string agentd = testing::PipelineBin().substr(0, testing::PipelineBin().rfind('/')) + "/pipeline-agentd";
  auto r = RunArgv({agentd, "run", WritePrompt("p.md", "profile: slow\n"), "-n", "r-agentd", "--timeout", "60"},
                   repo_);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  auto s = RunArgv({agentd, "status", "r-agentd", "--json"}, repo_);
  EXPECT_EQ(json::parse(s.out)["status"], "running");
  EXPECT_EQ(WaitForEnd("r-agentd")["status"], "done");
}

TEST_F(AgentCliTest, TimeoutKillsTheAgentAndItsChildren) {
  // The unconfined supervisor (sandbox.enabled = false): the script writes host pids to a file
  // outside its workspace. The confined equivalent is in sandbox_test.cc.
  WriteConfig("[sandbox]\nenabled = false\n");
  auto r = Pipeline({"agent", "run", WritePrompt("p.md", "profile: hang\n"), "-n", "hang", "--timeout", "1"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  json j = WaitForEnd("hang");
  EXPECT_EQ(j["status"], "timeout") << j.dump();
  EXPECT_DOUBLE_EQ(j["cost_cents"].get<double>(), 1);
  auto pids = ReadPids(dir_ / "hang.pids");
  ASSERT_EQ(pids.size(), 2u);
  for (pid_t p : pids) EXPECT_FALSE(PidAlive(p)) << p;
}

TEST_F(AgentCliTest, DaemonChildIsKilledWithTheGroup) {
  // The unconfined supervisor (sandbox.enabled = false): the script writes host pids to a file
  // outside its workspace. The confined equivalent is in sandbox_test.cc.
  WriteConfig("[sandbox]\nenabled = false\n");
  auto r = Pipeline({"agent", "run", WritePrompt("p.md", "profile: daemon\n"), "-n", "daemon"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  json j = WaitForEnd("daemon");
  EXPECT_EQ(j["status"], "done") << j.dump();
  EXPECT_DOUBLE_EQ(j["cost_cents"].get<double>(), 4);
  auto pids = ReadPids(dir_ / "daemon.pid");
  ASSERT_EQ(pids.size(), 1u);
  EXPECT_FALSE(PidAlive(pids[0]));
}

TEST_F(AgentCliTest, FloodStaysUnderTheLogCap) {
  WriteConfig("log_cap_bytes = 65536\n");
  auto r = Pipeline({"agent", "run", WritePrompt("p.md", "profile: flood\n"), "-n", "flood"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  json j = WaitForEnd("flood");
  EXPECT_EQ(j["status"], "done") << j.dump();
  EXPECT_DOUBLE_EQ(j["cost_cents"].get<double>(), 3);  // the line after 200 MB still reached the reader
  struct stat out, err;
  ASSERT_EQ(stat(j["stdout_log"].get<std::string>().c_str(), &out), 0);
  ASSERT_EQ(stat(j["stderr_log"].get<std::string>().c_str(), &err), 0);
  EXPECT_LE(out.st_size, 65536 + 100);
  EXPECT_LE(err.st_size, 65536 + 100);
  std::string text = ReadTextFile(j["stdout_log"]);
  EXPECT_NE(text.find("bytes dropped"), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 8), "the end\n");
}

TEST_F(AgentCliTest, StreamJsonPastMaxCostIsStoppedOverBudget) {
  auto r = Pipeline({"agent", "run", WritePrompt("p.md", "profile: stream\n"), "-n", "pricey", "--max-cost", "50"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  json j = WaitForEnd("pricey");
  EXPECT_EQ(j["status"], "over-budget") << j.dump();
  // Each message is 20k input + 2k output tokens of claude-opus-4-1 (15 / 75 USD per Mtok) = 45 cents;
  // the second one passes 50, the third was never sent.
  EXPECT_NEAR(j["cost_cents"].get<double>(), 90.0, 1e-6);
  EXPECT_EQ(j["turns"], 2);
}

TEST_F(AgentCliTest, QuestionWithoutCommitIsNeedsInput) {
  auto created = Pipeline({"task", "create", "Pick a database", "--json"});
  ASSERT_EQ(created.exit.exit_code, 0) << created.err;
  std::string task_id = json::parse(created.out).value("taskId", "");
  ASSERT_FALSE(task_id.empty()) << created.out;
  std::string before = Head();
  auto r = Pipeline({"agent", "run", WritePrompt("p.md", "profile: question\n"), "-n", "ask", "--task-id", task_id});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  json j = WaitForEnd("ask");
  EXPECT_EQ(j["status"], "needs-input") << j.dump();
  EXPECT_EQ(j["head_commit"], before);
  auto show = Pipeline({"task", "show", task_id, "--json"});
  EXPECT_NE(show.out.find("Which database should I use?"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("agent:engineer"), std::string::npos) << show.out;
}

TEST_F(AgentCliTest, FailureCarriesTheStderrTail) {
  auto r = Pipeline({"agent", "run", WritePrompt("p.md", "profile: fail\n"), "-n", "f1"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  json j = WaitForEnd("f1");
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["exit_code"], 3);
  EXPECT_NE(j["error"].get<std::string>().find("compiler exploded"), std::string::npos) << j.dump();
  EXPECT_DOUBLE_EQ(j["cost_cents"].get<double>(), 5);
}

// A child that says why on stdout only (git commit, many scripts): the end
// of its stdout is the error, but never an agent's JSON stream.
TEST_F(AgentCliTest, FailureWithNothingOnStderrCarriesTheStdoutTail) {
  ASSERT_EQ(Pipeline({"agent", "run", WritePrompt("q.md", "profile: quiet-fail\n"), "-n", "q1"}).exit.exit_code, 0);
  json j = WaitForEnd("q1");
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["error"], "agent exited with code 1: building nothing to commit, working tree clean") << j.dump();
  ASSERT_EQ(Pipeline({"agent", "run", WritePrompt("j.md", "profile: json-fail\n"), "-n", "j1"}).exit.exit_code, 0);
  j = WaitForEnd("j1");
  EXPECT_EQ(j["error"], "agent exited with code 1") << j.dump();
}

TEST_F(AgentCliTest, AgentThatCannotStartFailsTheCall) {
  auto r = Pipeline({"agent", "run", WritePrompt("p.md", "profile: missing\n"), "-n", "nostart"});
  EXPECT_EQ(r.exit.exit_code, 1);
  EXPECT_NE(r.err.find("nonexistent/agent-binary"), std::string::npos) << r.err;
  json j = Status("nostart");
  EXPECT_EQ(j["status"], "failed");
  EXPECT_NE(j["error"].get<std::string>().find("cannot start"), std::string::npos);
}

TEST_F(AgentCliTest, CallerKilledRightAfterRunStillEndsDone) {
  SpawnOptions o;
  o.argv = {testing::PipelineBin(), "agent", "run", WritePrompt("p.md", "profile: slow\n"), "-n", "orphan"};
  o.cwd = repo_;
  auto caller = Spawn(o);
  ASSERT_TRUE(caller.ok());
  // Kill it as soon as the run row shows up (before or after the handshake).
  for (int i = 0; i < 400; ++i) {
    if (Pipeline({"agent", "status", "orphan", "--json"}).exit.exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(caller->pid, SIGKILL);
  waitpid(caller->pid, nullptr, 0);
  json j = WaitForEnd("orphan");
  EXPECT_EQ(j["status"], "done") << j.dump();
  EXPECT_DOUBLE_EQ(j["cost_cents"].get<double>(), 7);
}

TEST_F(AgentCliTest, MonitorKilledIsNoticedAndTheAgentGroupDies) {
  auto r = Pipeline({"agent", "run", WritePrompt("p.md", "profile: hang\n"), "-n", "mon"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  json j = Status("mon");
  pid_t monitor = j["monitor_pid"], agent = j["agent_pid"];
  ASSERT_GT(monitor, 0);
  ASSERT_GT(agent, 0);
  ASSERT_EQ(kill(monitor, SIGKILL), 0);
  for (int i = 0; i < 200 && PidAlive(monitor); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  j = Status("mon");
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["error"], "monitor died");
  for (int i = 0; i < 200 && GroupAlive(agent); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(GroupAlive(agent));
}

TEST_F(AgentCliTest, KillStopsTheRun) {
  auto r = Pipeline({"agent", "run", WritePrompt("p.md", "profile: hang\n"), "-n", "k1"});
  // The agent never ends, yet the call returned: nothing kept our stdout/stderr pipes open.
  EXPECT_FALSE(r.timed_out);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  auto k = Pipeline({"agent", "kill", "k1", "--json"});
  ASSERT_EQ(k.exit.exit_code, 0) << k.err;
  EXPECT_EQ(json::parse(k.out)["status"], "killed");
  for (pid_t p : ReadPids(dir_ / "hang.pids")) EXPECT_FALSE(PidAlive(p)) << p;
  auto again = Pipeline({"agent", "kill", "k1"});
  EXPECT_EQ(again.exit.exit_code, 1);
  auto list = Pipeline({"agent", "list", "--json"});
  auto arr = json::parse(list.out);
  ASSERT_TRUE(arr.is_array());
  ASSERT_EQ(arr.size(), 1u);
  EXPECT_EQ(arr[0]["status"], "killed");
}

TEST_F(AgentCliTest, BadPromptFilesStartNothing) {
  struct Case {
    std::string text;
    int exit;
  } cases[] = {
      {"---\nmodel: x\n", 2},                               // no closing ---
      {"---\nmodel x\n---\nbody\n", 2},                      // line without ':'
      {"---\nmax_iterations: many\n---\nbody\n", 2},         // non-numeric
      {"---\nworkspace: /nonexistent/dir\n---\nbody\n", 2},  // workspace must exist
      {"---\nprofile: nosuch\n---\nbody\n", 2},              // unknown profile
  };
  int i = 0;
  for (const auto& c : cases) {
    std::string path = dir_ / ("bad" + std::to_string(i) + ".md");
    WriteTextFile(path, c.text);
    auto r = Pipeline({"agent", "run", path, "-n", "bad" + std::to_string(i)});
    EXPECT_EQ(r.exit.exit_code, c.exit) << c.text << r.err;
    EXPECT_TRUE(StartsWith(r.err, "pipeline: ")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    ++i;
  }
  auto missing = Pipeline({"agent", "run", dir_ / "nope.md", "-n", "m"});
  EXPECT_EQ(missing.exit.exit_code, 1);
  EXPECT_NE(missing.err.find("not found"), std::string::npos);
  auto noid = Pipeline({"agent", "run", WritePrompt("ok.md", "profile: commit\n")});
  EXPECT_EQ(noid.exit.exit_code, 2);
  auto badid = Pipeline({"agent", "run", dir_ / "ok.md", "-n", "../escape"});
  EXPECT_EQ(badid.exit.exit_code, 2);
  // Nothing was recorded.
  auto list = Pipeline({"agent", "list", "--json"});
  EXPECT_EQ(json::parse(list.out), json::array());
}

TEST_F(AgentCliTest, UnknownKeysAreWarnedAboutButRun) {
  auto r = Pipeline({"agent", "run", WritePrompt("p.md", "profile: commit\ncolour: blue\n"), "-n", "warn"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("colour"), std::string::npos);
  EXPECT_EQ(WaitForEnd("warn")["status"], "done");
}

TEST_F(AgentCliTest, UnknownRunIdIsNotRunning) {
  auto r = Pipeline({"agent", "status", "no-such-run", "--json"});
  EXPECT_EQ(r.exit.exit_code, 1);
  json j = json::parse(r.out);
  EXPECT_EQ(j["status"], "unknown");
  EXPECT_TRUE(j["error"].is_string());
  EXPECT_NE(r.err.find("no run no-such-run"), std::string::npos);
  auto plain = Pipeline({"agent", "status", "no-such-run"});
  EXPECT_EQ(plain.exit.exit_code, 1);
  EXPECT_EQ(plain.out, "");
}

}  // namespace
}  // namespace pipeline
