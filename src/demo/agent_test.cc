// The scripted agent in a real temporary repository: it edits, commits with a
// Task-Id trailer, prints valid stream-json whose total_cost_usd is its
// scripted cost, fixes its patchset from verification feedback, redoes it on
// the new base after a conflict, and asks instead of committing when the
// question task has no answer yet. Prompts come from the scheduler's own
// renderer, so a change of the prompt's layout shows up here.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "demo/agent.h"
#include "demo/backlog.h"
#include "demo/project.h"
#include "sched/prompt.h"
#include "testutil/testutil.h"
#include "util/text.h"

namespace pipeline::demo {
namespace {

using nlohmann::json;
using pipeline::testing::RunArgv;
using pipeline::testing::TempDir;
using pipeline::testing::WriteTextFile;

std::string Git(const std::string& dir, const std::vector<std::string>& args) {
  auto r = RunGit(RealProcessRunner(), dir, args);
  EXPECT_TRUE(r.ok()) << r.message();
  return r.ok() ? *r : "";
}

std::string Prompt(const std::string& ws, const std::string& task_id, const std::string& key,
                   std::optional<std::string> feedback = std::nullopt, std::vector<PromptComment> comments = {}) {
  const DemoTaskSpec* spec = FindDemoTask(key);
  PromptInput in;
  in.toolchain = "sh";
  in.workspace = ws;
  in.run_id = "pipeline-test-" + task_id;
  in.task_id = task_id;
  in.title = spec->title;
  in.description = DemoDescription(*spec);
  in.domain = in.ns = spec->ns;
  in.patchset = feedback ? 2 : 1;
  in.feedback = feedback;
  in.comments = comments;
  return RenderDevPrompt(in);
}

struct AgentRun {
  Result<DemoAgentReport> report = IOError("not run");
  std::vector<json> lines;
};

class DemoAgentTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(CreateDemoProject(RealProcessRunner(), dir_.path()).ok()); }

  AgentRun Run(const std::string& prompt, const std::string& bin = "/bin/false") {
    WriteTextFile(dir_ / "prompt.md", prompt);
    DemoAgentOptions o;
    o.prompt_path = dir_ / "prompt.md";
    o.workspace = dir_.path();
    o.pipeline_bin = bin;
    std::ostringstream out;
    AgentRun r;
    r.report = RunDemoAgent(RealProcessRunner(), o, out);
    for (const std::string& line : Split(out.str(), '\n')) {
      if (line.empty()) continue;
      json j = json::parse(line, nullptr, false);
      EXPECT_FALSE(j.is_discarded()) << "not JSON: " << line;
      r.lines.push_back(j);
    }
    // Whatever happened, the stream is well formed: init first, result last.
    EXPECT_GE(r.lines.size(), 2u);
    if (r.lines.size() >= 2) {
      EXPECT_EQ(r.lines.front()["type"], "system");
      EXPECT_EQ(r.lines.front()["subtype"], "init");
      EXPECT_EQ(r.lines.back()["type"], "result");
    }
    return r;
  }

  bool TestsPass() { return RunArgv({"sh", "tests/run.sh"}, dir_.path()).ok(); }
  std::string Head() { return Git(dir_.path(), {"rev-parse", "HEAD"}); }

  TempDir dir_;
};

double CostCents(const AgentRun& r) { return r.lines.back()["total_cost_usd"].get<double>() * 100.0; }

TEST_F(DemoAgentTest, ImplementsCommitsAndReportsItsCost) {
  std::string before = Head();
  AgentRun r = Run(Prompt(dir_.path(), "t-1", "trim"));
  ASSERT_TRUE(r.report.ok()) << r.report.message();
  EXPECT_EQ(r.report->action, AgentAction::kImplemented);
  EXPECT_NE(Head(), before);
  EXPECT_EQ(r.report->commit, Head());
  EXPECT_NE(Git(dir_.path(), {"log", "-1", "--format=%B"}).find("Task-Id: t-1"), std::string::npos);
  EXPECT_EQ(Git(dir_.path(), {"status", "--porcelain"}), "");
  EXPECT_TRUE(TestsPass());

  const json& result = r.lines.back();
  EXPECT_EQ(result["subtype"], "success");
  EXPECT_FALSE(result["is_error"].get<bool>());
  EXPECT_NEAR(CostCents(r), FindDemoTask("trim")->cost_cents, 1e-6);
  int assistants = 0;
  for (const auto& l : r.lines) {
    if (l["type"] != "assistant") continue;
    ++assistants;
    EXPECT_TRUE(l["message"]["usage"]["input_tokens"].is_number_integer());
    EXPECT_TRUE(l["message"]["usage"]["output_tokens"].is_number_integer());
  }
  EXPECT_GE(assistants, 3);
  EXPECT_EQ(result["num_turns"].get<int>(), assistants);
}

TEST_F(DemoAgentTest, BuggyFirstPatchsetThenFixFromFeedback) {
  ASSERT_TRUE(ApplyOps(dir_.path(), FindDemoTask("trim")->ops).ok());
  Git(dir_.path(), {"add", "-A"});
  Git(dir_.path(), {"commit", "-qm", "trim"});
  AgentRun first = Run(Prompt(dir_.path(), "t-2", "repeat"));
  ASSERT_TRUE(first.report.ok()) << first.report.message();
  EXPECT_EQ(first.report->action, AgentAction::kImplemented);
  EXPECT_FALSE(TestsPass()) << "the first patchset is meant to fail verification";

  auto tests = RunArgv({"sh", "tests/run.sh"}, dir_.path());
  std::string feedback = "verification failed\n" + tests.out;
  std::string first_head = Head();
  AgentRun second = Run(Prompt(dir_.path(), "t-2", "repeat", feedback));
  ASSERT_TRUE(second.report.ok()) << second.report.message();
  EXPECT_EQ(second.report->action, AgentAction::kFixed);
  EXPECT_NE(Head(), first_head);
  EXPECT_EQ(Git(dir_.path(), {"rev-parse", "HEAD~1"}), first_head) << "the fix goes on top of the first patchset";
  EXPECT_TRUE(TestsPass());
  EXPECT_NEAR(CostCents(second), FindDemoTask("repeat")->retry_cost_cents, 1e-6);
  std::string msg = Git(dir_.path(), {"log", "-1", "--format=%B"});
  EXPECT_NE(msg.find("rejected: verification failed"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Task-Id: t-2"), std::string::npos) << msg;
}

TEST_F(DemoAgentTest, ConflictFeedbackRedoesTheChangeOnTheNewBase) {
  const std::string d = dir_.path();
  std::string base = Head();
  Git(d, {"checkout", "-q", "-b", "pipeline/t-4"});
  ASSERT_TRUE(Run(Prompt(d, "t-4", "sum")).report.ok());
  // Meanwhile the other task of the pair reached main.
  Git(d, {"checkout", "-q", kDemoBaseBranch});
  ASSERT_TRUE(ApplyOps(d, FindDemoTask("trim")->ops).ok());
  Git(d, {"add", "-A"});
  Git(d, {"commit", "-qm", "trim"});
  std::string main_head = Head();
  Git(d, {"checkout", "-q", "pipeline/t-4"});

  AgentRun redo = Run(Prompt(d, "t-4", "sum", "merge conflict in lib/textkit.sh; rebase on main"));
  ASSERT_TRUE(redo.report.ok()) << redo.report.message();
  EXPECT_EQ(redo.report->action, AgentAction::kRedone);
  EXPECT_EQ(Git(d, {"rev-parse", "HEAD~1"}), main_head) << "redone on top of the current main";
  auto merge = RunArgv({"git", "-C", d, "merge-tree", "--write-tree", kDemoBaseBranch, "HEAD"});
  EXPECT_EQ(merge.exit.exit_code, 0) << merge.out;
  EXPECT_TRUE(TestsPass());
  EXPECT_NEAR(CostCents(redo), FindDemoTask("sum")->retry_cost_cents, 1e-6);
  (void)base;
}

TEST_F(DemoAgentTest, AsksInsteadOfGuessingThenImplementsAfterTheAnswer) {
  // pad builds on lib/strings.sh, which trim starts.
  ASSERT_TRUE(ApplyOps(dir_.path(), FindDemoTask("trim")->ops).ok());
  Git(dir_.path(), {"add", "-A"});
  Git(dir_.path(), {"commit", "-qm", "trim"});
  std::string before = Head();
  // `true` stands in for `pipeline task comment`: it succeeds and changes nothing.
  AgentRun ask = Run(Prompt(dir_.path(), "t-3", "pad"), "/bin/true");
  ASSERT_TRUE(ask.report.ok()) << ask.report.message();
  EXPECT_EQ(ask.report->action, AgentAction::kAsked);
  EXPECT_EQ(Head(), before) << "asking must not commit";
  EXPECT_NEAR(CostCents(ask), FindDemoTask("pad")->question_cost_cents, 1e-6);
  bool asked = false;
  for (const auto& l : ask.lines) {
    if (l["type"] != "assistant") continue;
    for (const auto& c : l["message"]["content"])
      if (c["type"] == "tool_use" && c["input"].value("command", "").find("task comment t-3") != std::string::npos)
        asked = true;
  }
  EXPECT_TRUE(asked);

  AgentRun work = Run(Prompt(dir_.path(), "t-3", "pad", std::nullopt,
                             {{"agent:engineer", kDemoQuestion}, {"human", kDemoAnswer}}),
                      "/bin/true");
  ASSERT_TRUE(work.report.ok()) << work.report.message();
  EXPECT_EQ(work.report->action, AgentAction::kImplemented);
  EXPECT_NE(Head(), before);
  EXPECT_TRUE(TestsPass());
}

TEST_F(DemoAgentTest, UnknownTaskIsAnErrorResult) {
  AgentRun r = Run("---\ntask_id: t-9\n---\n\nNo script marker here.\n");
  ASSERT_FALSE(r.report.ok());
  EXPECT_EQ(r.report.kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(r.lines.back()["is_error"].get<bool>());
}

TEST_F(DemoAgentTest, MissingPromptIsAnErrorResult) {
  DemoAgentOptions o;
  o.prompt_path = dir_ / "absent.md";
  o.workspace = dir_.path();
  std::ostringstream out;
  auto r = RunDemoAgent(RealProcessRunner(), o, out);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(out.str().find("\"is_error\":true"), std::string::npos);
}

TEST(DemoPromptFacts, ReadsTheSchedulersPrompt) {
  PromptFacts plain = ReadPromptFacts(Prompt("/w", "t-7", "max"));
  EXPECT_EQ(plain.task_id, "t-7");
  EXPECT_EQ(plain.script_key, "max");
  EXPECT_FALSE(plain.rejected);
  EXPECT_FALSE(plain.answered);

  PromptFacts rejected = ReadPromptFacts(Prompt("/w", "t-7", "max", "verification failed: exit 1\nFAIL tests/test_max.sh"));
  EXPECT_TRUE(rejected.rejected);
  EXPECT_FALSE(rejected.conflict);
  EXPECT_EQ(rejected.feedback, "verification failed: exit 1");

  PromptFacts conflict = ReadPromptFacts(Prompt("/w", "t-7", "max", "merge conflict in lib/numbers.sh"));
  EXPECT_TRUE(conflict.conflict);

  PromptFacts answered = ReadPromptFacts(Prompt("/w", "t-3", "pad", std::nullopt, {{"human", kDemoAnswer}}));
  EXPECT_TRUE(answered.answered);
}

}  // namespace
}  // namespace pipeline::demo
