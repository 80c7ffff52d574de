// The demo's model script: it is a valid scenario for the model stub, each
// prompt the scheduler renders for a demo task picks that task's conversation
// (the later prompts, after a rejection, a conflict or an answer, pick the
// conversation made for them), and every conversation's usage costs what the
// task spec says at the model's list prices, once settled to whole cents.
#include <gtest/gtest.h>

#include <cmath>

#include "demo/backlog.h"
#include "demo/scenario.h"
#include "sched/prompt.h"
#include "stub/scenario.h"

namespace pipeline::demo {
namespace {

using nlohmann::json;

std::string Prompt(const DemoTaskSpec& spec, std::optional<std::string> feedback = std::nullopt,
                   std::vector<PromptComment> comments = {}) {
  PromptInput in;
  in.toolchain = "sh";
  in.workspace = "/tmp/ws";
  in.run_id = "pipeline-test";
  in.task_id = "t-1";
  in.title = spec.title;
  in.description = DemoDescription(spec);
  in.domain = in.ns = spec.ns;
  in.patchset = feedback ? 2 : 1;
  in.feedback = feedback;
  in.comments = comments;
  return RenderDevPrompt(in);
}

class DemoScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    json_ = DemoScenario();
    auto parsed = stub::ParseScenario(json_.dump());
    ASSERT_TRUE(parsed.ok()) << parsed.message();
    scenario_ = *parsed;
  }
  // The conversation the stub would answer the prompt from.
  const json& Picked(const std::string& prompt) {
    auto i = stub::FindConversation(scenario_, prompt);
    EXPECT_TRUE(i.has_value()) << prompt;
    static const json kNone = json::object();
    return i ? json_["conversations"][*i] : kNone;
  }
  static int64_t SettledCents(const json& conversation) {
    return static_cast<int64_t>(std::ceil(DemoScenarioCostCents(conversation)));
  }

  json json_;
  stub::Scenario scenario_;
};

TEST_F(DemoScenarioTest, EveryTasksFirstPromptPicksItsOwnConversation) {
  for (const DemoTaskSpec& spec : DemoBacklog()) {
    const json& c = Picked(Prompt(spec));
    const std::string expected = spec.role == DemoRole::kAsksQuestion ? spec.key + " (question)" : spec.key;
    EXPECT_EQ(c.value("name", ""), expected);
    int64_t cents = spec.role == DemoRole::kAsksQuestion ? spec.question_cost_cents : spec.cost_cents;
    EXPECT_EQ(SettledCents(c), cents) << spec.key;
    // Every answer but the last is a tool call; a task that implements ends by committing.
    const json& turns = c["turns"];
    ASSERT_GE(turns.size(), 2u);
    EXPECT_TRUE(turns.back().contains("text") && turns.back().size() == 2u) << turns.back().dump();  // text + usage
    if (spec.role != DemoRole::kAsksQuestion) {
      std::string commit = turns[turns.size() - 2].value("bash", "");
      EXPECT_NE(commit.find("git commit"), std::string::npos) << spec.key;
      EXPECT_NE(commit.find("Task-Id: $PIPELINE_TASK_ID"), std::string::npos) << spec.key;
    }
  }
}

TEST_F(DemoScenarioTest, LaterPromptsPickTheirOwnConversations) {
  const DemoTaskSpec& repeat = *FindDemoTask("repeat");
  const json& fix = Picked(Prompt(repeat, "FAIL repeat-3: expected [ababab], got [abab]"));
  EXPECT_EQ(fix.value("name", ""), "repeat (fix)");
  EXPECT_EQ(SettledCents(fix), repeat.retry_cost_cents);
  // The fix edits the buggy line in place after reading the file.
  bool edits_bug = false;
  for (const json& t : fix["turns"])
    if (t.contains("edit")) edits_bug = t["edit"]["old"] == repeat.bug_signature;
  EXPECT_TRUE(edits_bug) << fix.dump();

  const DemoTaskSpec& trim = *FindDemoTask("trim");
  const json& redo =
      Picked(Prompt(trim, "Integration into main conflicted in:\n  lib/textkit.sh\nRebase the task branch on main."));
  EXPECT_EQ(redo.value("name", ""), "trim (redo)");
  EXPECT_EQ(SettledCents(redo), trim.retry_cost_cents);
  EXPECT_NE(redo["turns"][0].value("bash", "").find("git reset -q --hard main"), std::string::npos);

  const DemoTaskSpec& pad = *FindDemoTask("pad");
  const json& answered = Picked(Prompt(pad, std::nullopt,
                                       {{"agent:engineer", kDemoQuestion}, {"human", kDemoAnswer}}));
  EXPECT_EQ(answered.value("name", ""), "pad (answered)");
  EXPECT_EQ(SettledCents(answered), pad.cost_cents);
}

TEST_F(DemoScenarioTest, EditsReadTheirFileFirstAndAnchorOnTheProjectsText) {
  // Claude Code refuses to edit a file it has not read in the same run.
  for (const json& c : json_["conversations"]) {
    const json& turns = c["turns"];
    for (size_t i = 0; i < turns.size(); ++i) {
      if (!turns[i].contains("edit")) continue;
      std::string path = turns[i]["edit"]["path"];
      bool read_before = false;
      for (size_t k = 0; k < i; ++k)
        if (turns[k].contains("read") && turns[k]["read"]["path"] == path) read_before = true;
      EXPECT_TRUE(read_before) << c["name"] << " edits " << path << " unread";
      EXPECT_FALSE(turns[i]["edit"]["old"].get<std::string>().empty()) << c["name"];
    }
  }
}

}  // namespace
}  // namespace pipeline::demo
