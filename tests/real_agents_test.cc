// The real agent CLIs (Claude Code, Codex) against the real stub: a full
// agent loop with no network and no key. The CLIs come from
// scripts/install-agent-clis.sh; when they are missing this test installs
// them, and when that fails (no npm, registry unreachable) it fails with the
// reason rather than skipping.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "agent/profile.h"
#include "agent_clis.h"
#include "stub_harness.h"
#include "testutil/testutil.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline::testing {
namespace {

using nlohmann::json;

constexpr int64_t kAgentTimeoutMs = 90000;

std::string GitLog(const std::string& repo) {
  return RunArgv({"git", "-C", repo, "log", "--format=%s"}).out;
}

// The command line and environment docs/model-stub.md gives for Claude Code.
CommandResult RunClaude(const StubProcess& stub, const std::string& repo, const std::string& home,
                        const std::string& prompt) {
  return RunArgv({ToolsBin("claude"), "-p", prompt, "--model", "claude-sonnet-4-5", "--output-format", "stream-json",
                  "--verbose", "--permission-mode", "acceptEdits", "--allowedTools", "Bash Edit Write Read"},
                 repo, ClaudeCodeEnvForModelServer(stub.url(), home), kAgentTimeoutMs);
}

// The same for Codex (codex exec), with a private CODEX_HOME.
CommandResult RunCodex(const StubProcess& stub, const std::string& repo, const std::string& home,
                       const std::string& prompt) {
  std::string provider = "model_providers.stub={name=\"stub\",base_url=\"" + stub.url() +
                         "/v1\",wire_api=\"responses\",env_key=\"STUB_API_KEY\",request_max_retries=1,"
                         "stream_max_retries=1}";
  return RunArgv({ToolsBin("codex"), "exec", "--json", "--skip-git-repo-check", "-c", "model_provider=stub", "-c",
                  provider, "-m", "gpt-5", "--sandbox", "danger-full-access", prompt},
                 repo, {{"CODEX_HOME", home + "/.codex"}, {"HOME", home}, {"STUB_API_KEY", "stub-key"}},
                 kAgentTimeoutMs);
}

class RealAgentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string& why = EnsureAgentClis();
    ASSERT_TRUE(why.empty()) << why;
    repo_ = dir_ / "repo";
    home_ = dir_ / "home";
    ASSERT_TRUE(MakeDirs(repo_).ok());
    ASSERT_TRUE(MakeDirs(home_ + "/.codex").ok());
    InitGitRepo(repo_);
  }
  std::string Scenario(const std::string& name) { return SourceDir() + "/tests/scenarios/" + name; }
  TempDir dir_;
  std::string repo_, home_;
};

TEST_F(RealAgentsTest, ClaudeCodeWritesAndCommits) {
  StubProcess stub(Scenario("write_and_commit.json"), dir_.path());
  ASSERT_TRUE(stub.ok()) << stub.error();
  auto r = RunClaude(stub, repo_, home_, "Do task STUB-HELLO.");
  ASSERT_EQ(r.exit.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(ReadTextFile(repo_ + "/hello.txt"), "hello from the stub\n");
  EXPECT_NE(GitLog(repo_).find("Add hello.txt"), std::string::npos);
  auto lines = JsonLines(r.out);
  ASSERT_FALSE(lines.empty());
  const json& result = lines.back();
  ASSERT_EQ(result.value("type", ""), "result") << result.dump();
  EXPECT_FALSE(result["is_error"].get<bool>());
  EXPECT_EQ(result["num_turns"], 3);
  EXPECT_EQ(result["result"], "Created hello.txt and committed it.");
  // The scenario's usage summed over its three answers...
  EXPECT_EQ(result["usage"]["input_tokens"], 1000 + 1200 + 1300);
  EXPECT_EQ(result["usage"]["output_tokens"], 50 + 40 + 30);
  EXPECT_EQ(result["usage"]["cache_read_input_tokens"], 800 + 1000);
  EXPECT_EQ(result["usage"]["cache_creation_input_tokens"], 200);
  // ...priced at Claude Sonnet 4.5's list rates (USD per million tokens:
  // input 3, output 15, cache read 0.30, cache write 3.75).
  double expected = (3500 * 3.0 + 120 * 15.0 + 1800 * 0.30 + 200 * 3.75) / 1e6;
  EXPECT_NEAR(result["total_cost_usd"].get<double>(), expected, 1e-9);
  EXPECT_NE(stub.log().find("\"turn\":\"bash\""), std::string::npos);
}

TEST_F(RealAgentsTest, CodexWritesAndCommits) {
  StubProcess stub(Scenario("write_and_commit.json"), dir_.path());
  ASSERT_TRUE(stub.ok()) << stub.error();
  auto r = RunCodex(stub, repo_, home_, "Do task STUB-HELLO.");
  ASSERT_EQ(r.exit.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(ReadTextFile(repo_ + "/hello.txt"), "hello from the stub\n");
  EXPECT_NE(GitLog(repo_).find("Add hello.txt"), std::string::npos);
  json completed;
  int commands = 0;
  for (const json& j : JsonLines(r.out)) {
    if (j.value("type", "") == "turn.completed") completed = j;
    if (j.value("type", "") == "item.completed" && j["item"].value("type", "") == "command_execution") {
      ++commands;
      EXPECT_EQ(j["item"]["exit_code"], 0) << j.dump();
    }
  }
  EXPECT_EQ(commands, 2);
  ASSERT_TRUE(completed.is_object()) << r.out;
  EXPECT_EQ(completed["usage"]["input_tokens"], 3500);
  EXPECT_EQ(completed["usage"]["cached_input_tokens"], 1800);
  EXPECT_EQ(completed["usage"]["output_tokens"], 120);
}

TEST_F(RealAgentsTest, ClaudeCodeGivesUpOnOverload) {
  StubProcess stub(Scenario("overloaded.json"), dir_.path());
  ASSERT_TRUE(stub.ok()) << stub.error();
  auto r = RunClaude(stub, repo_, home_, "Do anything.");
  EXPECT_NE(r.exit.exit_code, 0);
  EXPECT_FALSE(r.timed_out);
  auto lines = JsonLines(r.out);
  ASSERT_FALSE(lines.empty()) << r.err;
  const json& result = lines.back();
  EXPECT_EQ(result.value("type", ""), "result");
  EXPECT_TRUE(result["is_error"].get<bool>());
  EXPECT_EQ(result["api_error_status"], 529);
  EXPECT_NE(result["result"].get<std::string>().find("Overloaded (scripted)"), std::string::npos);
  // 1 try + CLAUDE_CODE_MAX_RETRIES=2 retries, all logged by the stub.
  std::string log = stub.log();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 3) << log;
}

TEST_F(RealAgentsTest, CodexGivesUpOnServerErrors) {
  StubProcess stub(Scenario("server_error.json"), dir_.path());
  ASSERT_TRUE(stub.ok()) << stub.error();
  auto r = RunCodex(stub, repo_, home_, "Do anything.");
  EXPECT_NE(r.exit.exit_code, 0);
  EXPECT_FALSE(r.timed_out);
  bool failed = false;
  for (const json& j : JsonLines(r.out)) {
    if (j.value("type", "") == "turn.failed") {
      failed = true;
      EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
    }
  }
  EXPECT_TRUE(failed) << r.out;
  EXPECT_NE(stub.log().find("\"status\":500"), std::string::npos);
}

}  // namespace
}  // namespace pipeline::testing
