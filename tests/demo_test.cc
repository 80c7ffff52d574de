// `pipeline demo` end to end, as a new user runs it: the built binary builds
// the sample project, works the backlog with the real Claude Code CLI (the
// default; its model is the in-process stub) or the scripted agent, and
// prints a summary. The facts are checked from the summary JSON and,
// independently, from the repository, the task CLI and the agents' own logs.
#include <gtest/gtest.h>

#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "agent_clis.h"
#include "proc/process.h"
#include "testutil/testutil.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline::testing {
namespace {

using nlohmann::json;

const json* TaskWithRole(const json& s, const std::string& role) {
  for (const auto& t : s["tasks"])
    if (t["role"] == role) return &t;
  return nullptr;
}

// Runs the demo with extra_args into t/textkit and checks the whole backlog
// went through every scenario; returns the summary.
json RunWholeDemo(const TempDir& t, const std::vector<std::string>& extra_args) {
  std::string proj = t / "textkit";
  std::string summary_path = t / "summary.json";
  std::vector<std::string> args = {"demo", "--no-watch", "--dir", proj, "--json-summary", summary_path};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  auto r = RunPipeline(args, t.path(), {}, 240000);
  EXPECT_EQ(r.exit.exit_code, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err;
  if (r.exit.exit_code != 0) return json::object();
  EXPECT_NE(r.out.find("Summary"), std::string::npos);
  EXPECT_NE(r.out.find("git log --oneline main"), std::string::npos);

  json s = json::parse(ReadTextFile(summary_path));
  EXPECT_TRUE(s["all_done"].get<bool>());
  EXPECT_GE(s["tasks"].size(), 9u);
  for (const auto& task : s["tasks"]) {
    EXPECT_EQ(task["status"], "done") << task.dump();
    EXPECT_TRUE(task["in_base"].get<bool>()) << "no commit with Task-Id " << task["id"] << " on main";
  }

  // One task failed verification once and was fixed in a later patchset.
  const json* fixed = TaskWithRole(s, "fails-verify-once");
  EXPECT_NE(fixed, nullptr);
  if (!fixed) return s;
  EXPECT_GE((*fixed)["patchsets"].get<int>(), 2);
  EXPECT_GE((*fixed)["dev_runs"].get<int>(), 2);

  // One asked a question (a run that ended needing input), got a person's answer and finished.
  const json* asked = TaskWithRole(s, "asks-question");
  EXPECT_NE(asked, nullptr);
  if (!asked) return s;
  EXPECT_GE((*asked)["needs_input_runs"].get<int>(), 1);
  EXPECT_GE((*asked)["human_comments"].get<int>(), 1);
  EXPECT_GE((*asked)["agent_comments"].get<int>(), 1);
  EXPECT_GE((*asked)["dev_runs"].get<int>(), 2);

  // One of the pair met a merge conflict and was redone.
  int conflicted = 0;
  for (const auto& task : s["tasks"]) {
    if (task["role"] != "conflict-pair" || !task["conflict"].get<bool>()) continue;
    ++conflicted;
    EXPECT_GE(task["dev_runs"].get<int>(), 2) << task.dump();
  }
  EXPECT_EQ(conflicted, 1);

  // Money: each domain's spend is the sum of its runs' costs, nothing is left held,
  // and docs ran short once and was topped up.
  bool docs_granted = false;
  for (const auto& d : s["domains"]) {
    EXPECT_EQ(d["spent_cents"], d["runs_cost_cents"]) << d.dump();
    EXPECT_EQ(d["held_cents"], 0) << d.dump();
    EXPECT_LE(d["spent_cents"].get<int64_t>(), d["budget_cents"].get<int64_t>()) << d.dump();
    if (d["domain"] == "docs") docs_granted = d["granted_cents"].get<int64_t>() > 0;
  }
  EXPECT_TRUE(docs_granted);

  // Independently of the summary: the task CLI says done, and main passes its tests.
  auto list = RunPipeline({"task", "list", "--json", "--root", proj + "/.pipeline"});
  EXPECT_TRUE(list.ok()) << list.err;
  json tasks = json::parse(list.out, nullptr, false);
  EXPECT_EQ(tasks.size(), s["tasks"].size());
  for (const auto& task : tasks) EXPECT_EQ(task["taskStatus"], "done") << task.dump();
  std::string clone = t / "clone";
  if (!RunArgv({"git", "clone", "-q", "-b", "main", proj, clone}).ok()) {
    ADD_FAILURE() << "cannot clone " << proj;
    return s;
  }
  auto tests = RunArgv({"sh", "tests/run.sh"}, clone);
  EXPECT_TRUE(tests.ok()) << tests.out;
  EXPECT_NE(tests.out.find("0 failed"), std::string::npos) << tests.out;
  auto log = RunArgv({"git", "-C", clone, "log", "--format=%B"});
  for (const auto& task : tasks)
    EXPECT_NE(log.out.find("Task-Id: " + task["taskId"].get<std::string>()), std::string::npos) << task["taskId"];
  EXPECT_LT(s["wall_seconds"].get<double>(), 120.0);
  return s;
}

TEST(DemoEndToEnd, ScriptedAgentWorksTheWholeBacklog) {
  TempDir t;
  json s = RunWholeDemo(t, {"--agent", "command"});
  EXPECT_EQ(s.value("agent", ""), "command");
}

// The default: the real Claude Code CLI develops every task through its own
// tools, and what the ledger charged is what it reported.
TEST(DemoEndToEnd, ClaudeCodeWorksTheWholeBacklog) {
  const std::string& why = EnsureAgentClis();
  ASSERT_TRUE(why.empty()) << why;
  TempDir t;
  json s = RunWholeDemo(t, {"--claude", ToolsBin("claude")});
  ASSERT_EQ(s.value("agent", ""), "claude-code") << s.dump();
  std::string root = t / "textkit/.pipeline";

  // Every dev run is Claude Code's (13: ten tasks, a fix, an answer, a redo):
  // its stream ends with its own result line, and the run's recorded cost is
  // that line's total_cost_usd.
  auto list = RunPipeline({"agent", "list", "--json", "--root", root});
  ASSERT_TRUE(list.ok()) << list.err;
  int dev_runs = 0;
  for (const json& j : json::parse(list.out)) {
    if (j.value("phase", "") != "dev") continue;
    ++dev_runs;
    EXPECT_EQ(j.value("profile", ""), "claude-code") << j.dump();
    auto lines = JsonLines(ReadTextFile(j["stdout_log"].get<std::string>()));
    ASSERT_FALSE(lines.empty()) << j.dump();
    const json& result = lines.back();
    ASSERT_EQ(result.value("type", ""), "result") << j.dump();
    EXPECT_FALSE(result.value("is_error", true)) << result.dump();
    EXPECT_NEAR(j["cost_cents"].get<double>(), result["total_cost_usd"].get<double>() * 100, 1e-6) << j.dump();
    EXPECT_EQ(j["turns"], result["num_turns"]) << j.dump();
  }
  EXPECT_GE(dev_runs, 13) << list.out;

  // The model server answered every request the CLI made.
  std::string stub_log = ReadTextFile(root + "/demo/model-stub.log");
  int requests = 0;
  for (const json& l : JsonLines(stub_log)) {
    ++requests;
    EXPECT_EQ(l.value("status", 0), 200) << l.dump();
  }
  EXPECT_GT(requests, 40);
}

// The model stub is the demo's child: a demo killed with SIGKILL (no
// chance to clean up) still takes it along, so no server is left listening.
TEST(DemoEndToEnd, KilledDemoLeavesNoModelStubBehind) {
  const std::string& why = EnsureAgentClis();
  ASSERT_TRUE(why.empty()) << why;
  TempDir t;
  std::string proj = t / "textkit";
  SpawnOptions o;
  o.argv = {PipelineBin(), "demo", "--no-watch", "--dir", proj, "--claude", ToolsBin("claude")};
  auto demo = Spawn(o);
  ASSERT_TRUE(demo.ok()) << demo.message();
  std::string port_file = proj + "/.pipeline/demo/model-stub.port";
  int port = 0;
  for (int i = 0; i < 1500 && port == 0; ++i) {  // up to 30 s on a loaded machine
    if (auto text = ReadFile(port_file); text.ok()) port = static_cast<int>(ParseInt64(Trim(*text)).value_or(0));
    if (port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GT(port, 0) << "the demo never started its model stub";
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1);
  auto before = client.Get("/health");
  ASSERT_TRUE(before && before->status == 200) << "the stub does not answer while the demo runs";

  kill(demo->pid, SIGKILL);
  int status = 0;
  waitpid(demo->pid, &status, 0);
  bool gone = false;
  for (int i = 0; i < 250 && !gone; ++i) {  // up to 5 s
    gone = !client.Get("/health");
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "the model stub still listens on port " << port << " after the demo was killed";
  // What the killed demo left running (detached monitors and agents, by
  // design recoverable by the next `pipeline run`) is stopped for the next test.
  auto list = RunPipeline({"agent", "list", "--json", "--root", proj + "/.pipeline"});
  for (const json& run : json::parse(list.out, nullptr, false)) {
    if (run.is_object() && run.value("status", "") == "running")
      RunPipeline({"agent", "kill", run["run_id"].get<std::string>(), "--root", proj + "/.pipeline"});
  }
}

TEST(DemoEndToEnd, MissingClaudeIsAClearErrorAndCreatesNothing) {
  TempDir t;
  auto r = RunPipeline({"demo", "--no-watch", "--claude", t / "no-such-claude", "--dir", t / "x"});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_EQ(r.err.rfind("pipeline: ", 0), 0u) << r.err;
  EXPECT_EQ(Split(Trim(r.err), '\n').size(), 1u) << r.err;
  EXPECT_NE(r.err.find("no-such-claude"), std::string::npos) << r.err;
  EXPECT_FALSE(RunArgv({"test", "-e", t / "x"}).ok()) << "nothing may be created";
}

TEST(DemoEndToEnd, RefusesANonEmptyDirectory) {
  TempDir t;
  WriteTextFile(t / "precious.txt", "keep me\n");
  auto r = RunPipeline({"demo", "--no-watch", "--agent", "command", "--dir", t.path()});
  EXPECT_EQ(r.exit.exit_code, 1);
  EXPECT_EQ(r.err.rfind("pipeline: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("not empty"), std::string::npos) << r.err;
  EXPECT_EQ(ReadTextFile(t / "precious.txt"), "keep me\n");
  EXPECT_FALSE(RunArgv({"test", "-e", t / ".git"}).ok()) << "nothing may be created";
}

TEST(DemoEndToEnd, UnknownAgentIsAUsageError) {
  TempDir t;
  auto r = RunPipeline({"demo", "--no-watch", "--agent", "nope", "--dir", t / "x"});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_FALSE(RunArgv({"test", "-e", t / "x"}).ok());
}

TEST(DemoEndToEnd, AgentWithAMissingPromptReportsAnError) {
  TempDir t;
  auto r = RunPipeline({"demo", "agent", t / "absent.md"}, t.path());
  EXPECT_EQ(r.exit.exit_code, 1);
  EXPECT_EQ(r.err.rfind("pipeline: ", 0), 0u) << r.err;
  // The stream still ends with a result line, marked as an error.
  auto lines = Split(r.out, '\n');
  ASSERT_GE(lines.size(), 2u) << r.out;
  json last = json::parse(lines[lines.size() - 1].empty() ? lines[lines.size() - 2] : lines.back());
  EXPECT_EQ(last["type"], "result");
  EXPECT_TRUE(last["is_error"].get<bool>());
  auto usage = RunPipeline({"demo", "agent"}, t.path());
  EXPECT_EQ(usage.exit.exit_code, 2);
}

}  // namespace
}  // namespace pipeline::testing
