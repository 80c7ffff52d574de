// The supervisor running the real agent CLIs: `pipeline agent run` with the
// built-in claude-code and codex profiles (their default command lines
// unchanged), against the real model stub, in a real git repository. The
// profiles only gain an environment pointing the CLIs at the stub and at a
// private home. The CLIs come from scripts/install-agent-clis.sh; when they
// are missing this test installs them, and when that fails it fails with the
// reason rather than skipping.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent/profile.h"
#include "agent_clis.h"
#include "stub_harness.h"
#include "testutil/testutil.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline::testing {
namespace {

using nlohmann::json;

std::string TomlString(const std::string& s) { return json(s).dump(); }

// USD per million tokens the test sets for gpt-5, so the expected Codex cost
// is computed here and not taken from our own built-in table.
constexpr double kGptInput = 2.0, kGptOutput = 10.0, kGptCacheRead = 0.5;

class RealAgentsSupervisedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string& why = EnsureAgentClis();
    ASSERT_TRUE(why.empty()) << why;
    repo_ = dir_ / "repo";
    home_ = dir_ / "home";
    ASSERT_TRUE(MakeDirs(repo_).ok());
    ASSERT_TRUE(MakeDirs(home_ + "/.claude").ok());
    ASSERT_TRUE(MakeDirs(home_ + "/.codex").ok());
    InitGitRepo(repo_);
    auto r = RunPipeline({"init"}, repo_);
    ASSERT_TRUE(r.ok()) << r.err;
    auto t = RunPipeline({"task", "create", "Supervised real agent run", "--json"}, repo_);
    ASSERT_EQ(t.exit.exit_code, 0) << t.err;
    task_id_ = json::parse(t.out, nullptr, false).value("taskId", "");
    ASSERT_FALSE(task_id_.empty()) << t.out;
  }

  // Starts the stub on the scenario and writes the store's config.toml (the
  // profiles' env) and Codex's own config.toml (the provider) to point at it.
  void StartStub(const std::string& scenario) {
    stub_ = std::make_unique<StubProcess>(SourceDir() + "/tests/scenarios/" + scenario, dir_.path());
    ASSERT_TRUE(stub_->ok()) << stub_->error();
    std::string c = "[agent]\nkill_grace_ms = 500\n\n";
    c += "[profiles.\"claude-code\"]\nenv = " +
         EnvAsTomlInlineTable(ClaudeCodeEnvForModelServer(stub_->url(), home_)) + "\n\n";
    c += "[profiles.codex]\nenv = { CODEX_HOME = " + TomlString(home_ + "/.codex") + ", HOME = " +
         TomlString(home_) + ", STUB_API_KEY = \"stub-key\" }\n\n";
    c += "[pricing.\"gpt-5\"]\ninput_usd_per_mtok = " + std::to_string(kGptInput) +
         "\noutput_usd_per_mtok = " + std::to_string(kGptOutput) +
         "\ncache_read_usd_per_mtok = " + std::to_string(kGptCacheRead) + "\ncache_write_usd_per_mtok = 0.0\n";
    WriteTextFile(repo_ + "/.pipeline/config.toml", c);
    // A user points Codex at their provider in CODEX_HOME/config.toml; the
    // test does the same for the stub, so the built-in command line is used.
    WriteTextFile(home_ + "/.codex/config.toml",
                  "model_provider = \"stub\"\n\n[model_providers.stub]\nname = \"stub\"\nbase_url = " +
                      TomlString(stub_->url() + "/v1") +
                      "\nwire_api = \"responses\"\nenv_key = \"STUB_API_KEY\"\n"
                      "request_max_retries = 1\nstream_max_retries = 1\n");
  }

  // `pipeline agent run` with the CLIs first on PATH (the monitor and the
  // agent inherit it); returns the run's status once it has ended.
  json RunToEnd(const std::string& run_id, const std::string& profile, const std::string& model,
                const std::string& marker, const std::vector<std::string>& extra = {}) {
    std::string prompt = dir_ / (run_id + ".md");
    WriteTextFile(prompt, "---\nworkspace: " + repo_ + "\n---\n\nDo task " + marker + ".\n");
    std::vector<std::string> args = {"agent",   "run", prompt,  "-n",        run_id, "--profile",
                                     profile,   "--model", model, "--task-id", task_id_};
    args.insert(args.end(), extra.begin(), extra.end());
    const char* path = getenv("PATH");
    auto r = RunPipeline(args, repo_, {{"PATH", ToolsBinDir() + ":" + (path ? path : "/usr/bin:/bin")}});
    EXPECT_EQ(r.exit.exit_code, 0) << r.err;
    if (r.exit.exit_code != 0) return json::object();
    return WaitForRunEnd(run_id, [&](const std::vector<std::string>& a) { return RunPipeline(a, repo_); });
  }

  std::string Head() { return Trim(RunArgv({"git", "-C", repo_, "rev-parse", "HEAD"}).out); }
  // Everything the agent printed, with the stub's requests to explain a failure.
  std::string Explain(const json& status) {
    return status.dump() + "\nstdout:\n" + ReadTextFile(status.value("stdout_log", "")) + "\nstderr:\n" +
           ReadTextFile(status.value("stderr_log", "")) + "\nstub log:\n" + (stub_ ? stub_->log() : "");
  }

  TempDir dir_;
  std::string repo_, home_, task_id_;
  std::unique_ptr<StubProcess> stub_;
};

TEST_F(RealAgentsSupervisedTest, ClaudeCodeEditsCommitsAndReportsItsCost) {
  StartStub("supervised_commit.json");
  std::string before = Head();
  json j = RunToEnd("claude-commit", "claude-code", "claude-sonnet-4-5", "SUP-COMMIT");
  ASSERT_EQ(j.value("status", ""), "done") << Explain(j);
  EXPECT_EQ(j["exit_code"], 0);
  EXPECT_EQ(j["head_before"], before);
  EXPECT_NE(j["head_commit"], before);
  EXPECT_EQ(j["head_commit"], Head());
  EXPECT_EQ(ReadTextFile(repo_ + "/notes.txt"), "written under supervision\n");
  // The record's figures are the CLI's own final result line.
  auto lines = JsonLines(ReadTextFile(j["stdout_log"].get<std::string>()));
  ASSERT_FALSE(lines.empty());
  const json& result = lines.back();
  ASSERT_EQ(result.value("type", ""), "result") << result.dump();
  EXPECT_NEAR(j["cost_cents"].get<double>(), result["total_cost_usd"].get<double>() * 100, 1e-9);
  EXPECT_EQ(j["turns"], result["num_turns"]);
  EXPECT_EQ(j["turns"], 3);
  // And that is the scenario's usage at claude-sonnet-4-5's list prices
  // (USD per million: input 3, output 15, cache read 0.30, cache write 3.75).
  double usd = (7000 * 3.0 + 140 * 15.0 + 3500 * 0.30 + 300 * 3.75) / 1e6;
  EXPECT_NEAR(j["cost_cents"].get<double>(), usd * 100, 1e-6);
}

TEST_F(RealAgentsSupervisedTest, CodexEditsCommitsAndIsPricedByTheConfig) {
  StartStub("supervised_commit.json");
  std::string before = Head();
  json j = RunToEnd("codex-commit", "codex", "gpt-5", "SUP-COMMIT");
  ASSERT_EQ(j.value("status", ""), "done") << Explain(j);
  EXPECT_NE(j["head_commit"], before);
  EXPECT_EQ(j["head_commit"], Head());
  EXPECT_EQ(ReadTextFile(repo_ + "/notes.txt"), "written under supervision\n");
  // Price every turn.completed the CLI printed with the config's gpt-5 rates.
  double usd = 0;
  int turns = 0;
  for (const json& l : JsonLines(ReadTextFile(j["stdout_log"].get<std::string>()))) {
    if (l.value("type", "") != "turn.completed") continue;
    ++turns;
    const json& u = l["usage"];
    double cached = u.value("cached_input_tokens", 0.0);
    usd += ((u.value("input_tokens", 0.0) - cached) * kGptInput + cached * kGptCacheRead +
            u.value("output_tokens", 0.0) * kGptOutput) / 1e6;
  }
  EXPECT_EQ(turns, 1);
  EXPECT_EQ(j["turns"], turns);
  EXPECT_NEAR(j["cost_cents"].get<double>(), usd * 100, 1e-6);
  // The scenario's three answers: 7000 input (3500 cached), 140 output.
  EXPECT_NEAR(usd, (3500 * kGptInput + 3500 * kGptCacheRead + 140 * kGptOutput) / 1e6, 1e-12);
}

TEST_F(RealAgentsSupervisedTest, CostLimitStopsTheRunMidway) {
  StartStub("supervised_expensive.json");
  std::string before = Head();
  json j = RunToEnd("claude-budget", "claude-code", "claude-sonnet-4-5", "SUP-EXPENSIVE", {"--max-cost", "100"});
  ASSERT_EQ(j.value("status", ""), "over-budget") << Explain(j);
  // Each answer is 60 cents: stopped once the spend passed 100, before all
  // four answers (240 cents) were spent.
  EXPECT_GE(j["cost_cents"].get<double>(), 100.0) << Explain(j);
  EXPECT_LE(j["cost_cents"].get<double>(), 240.0 + 1e-6) << Explain(j);
  EXPECT_EQ(j["head_commit"], before);
  std::string out = ReadTextFile(j["stdout_log"].get<std::string>());
  auto lines = JsonLines(out);
  EXPECT_TRUE(lines.empty() || lines.back().value("type", "") != "result") << "the agent finished: " << out;
}

TEST_F(RealAgentsSupervisedTest, ClaudeCodeGivingUpOnOverloadIsFailedWithItsError) {
  StartStub("supervised_overloaded.json");
  json j = RunToEnd("claude-529", "claude-code", "claude-sonnet-4-5", "SUP-OVERLOADED");
  ASSERT_EQ(j.value("status", ""), "failed") << Explain(j);
  ASSERT_TRUE(j["error"].is_string()) << Explain(j);
  std::string error = j["error"].get<std::string>();
  EXPECT_NE(error.find("529"), std::string::npos) << error;
  EXPECT_NE(error.find("Overloaded (supervised scenario)"), std::string::npos) << error;
  // 1 try + CLAUDE_CODE_MAX_RETRIES=2 retries.
  std::string log = stub_->log();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 3) << log;
}

TEST_F(RealAgentsSupervisedTest, CodexGivingUpOnServerErrorsIsFailedWithItsError) {
  StartStub("supervised_overloaded.json");
  json j = RunToEnd("codex-500", "codex", "gpt-5", "SUP-BROKEN");
  ASSERT_EQ(j.value("status", ""), "failed") << Explain(j);
  ASSERT_TRUE(j["error"].is_string()) << Explain(j);
  // The error recorded is the message of the CLI's own turn.failed event.
  std::string failed;
  for (const json& l : JsonLines(ReadTextFile(j["stdout_log"].get<std::string>())))
    if (l.value("type", "") == "turn.failed") failed = l["error"].value("message", "");
  ASSERT_FALSE(failed.empty()) << Explain(j);
  EXPECT_EQ(j["error"].get<std::string>(), SingleLine(failed));
  EXPECT_NE(stub_->log().find("\"status\":500"), std::string::npos);
}

TEST_F(RealAgentsSupervisedTest, QuestionThroughTheTaskCliIsNeedsInput) {
  StartStub("supervised_question.json");
  std::string before = Head();
  json j = RunToEnd("claude-ask", "claude-code", "claude-sonnet-4-5", "SUP-QUESTION");
  ASSERT_EQ(j.value("status", ""), "needs-input") << Explain(j);
  EXPECT_EQ(j["head_commit"], before);
  auto show = RunPipeline({"task", "show", task_id_, "--json"}, repo_);
  ASSERT_EQ(show.exit.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("Should the cache live in memory or on disk?"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("agent:engineer"), std::string::npos) << show.out;
}

TEST_F(RealAgentsSupervisedTest, TimeoutStopsTheWholeAgent) {
  StartStub("supervised_slow.json");
  json j = RunToEnd("claude-slow", "claude-code", "claude-sonnet-4-5", "SUP-SLOW", {"--timeout", "2"});
  ASSERT_EQ(j.value("status", ""), "timeout") << Explain(j);
  ASSERT_TRUE(j["agent_pid"].is_number()) << j.dump();
  std::string pgid = std::to_string(j["agent_pid"].get<int64_t>());
  // The agent was its group's leader: nothing of the group remains.
  auto left = RunArgv({"pgrep", "-g", pgid});
  EXPECT_EQ(left.exit.exit_code, 1) << "still running in group " << pgid << ":\n" << left.out;
}

}  // namespace
}  // namespace pipeline::testing
