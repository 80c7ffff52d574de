#include "stub/scenario.h"

#include <gtest/gtest.h>

namespace pipeline::stub {
namespace {

Scenario MustParse(const std::string& text) {
  auto s = ParseScenario(text);
  EXPECT_TRUE(s.ok()) << s.message();
  return s.ok() ? *s : Scenario{};
}

std::string ParseError(const std::string& text) {
  auto s = ParseScenario(text);
  EXPECT_FALSE(s.ok());
  return s.ok() ? "" : s.message();
}

TEST(ScenarioTest, ParsesEveryTurnKind) {
  Scenario s = MustParse(R"({"conversations": [{"match": "T-1", "turns": [
    {"bash": "make", "usage": {"input_tokens": 7, "output_tokens": 3, "cache_read_tokens": 2,
                               "cache_creation_tokens": 1, "reasoning_tokens": 4}},
    {"write": {"path": "a.txt", "content": "x"}, "text": "writing"},
    {"edit": {"path": "a.txt", "old": "x", "new": "y"}},
    {"read": {"path": "a.txt"}},
    {"tool": {"name": "exec_command", "input": {"cmd": "ls"}}},
    {"error": {"status": 529}, "times": 2, "retry_after_ms": 5, "delay_ms": 10},
    {"text": "done"}]}]})");
  ASSERT_EQ(s.conversations.size(), 1u);
  const auto& t = s.conversations[0].turns;
  ASSERT_EQ(t.size(), 7u);
  EXPECT_EQ(t[0].kind, TurnKind::kBash);
  EXPECT_EQ(t[0].command, "make");
  EXPECT_EQ(t[0].usage.input_tokens, 7);
  EXPECT_EQ(t[0].usage.cache_creation_tokens, 1);
  EXPECT_EQ(t[0].usage.reasoning_tokens, 4);
  EXPECT_EQ(t[1].kind, TurnKind::kWrite);
  EXPECT_EQ(t[1].text, "writing");
  EXPECT_EQ(t[2].old_text, "x");
  EXPECT_EQ(t[2].new_text, "y");
  EXPECT_EQ(t[3].kind, TurnKind::kRead);
  EXPECT_EQ(t[4].tool_name, "exec_command");
  EXPECT_EQ(t[4].tool_input["cmd"], "ls");
  EXPECT_EQ(t[5].kind, TurnKind::kError);
  EXPECT_EQ(t[5].http_status, 529);
  EXPECT_EQ(t[5].error_type, "overloaded_error");
  EXPECT_EQ(t[5].times, 2);
  EXPECT_EQ(t[5].retry_after_ms, 5);
  EXPECT_EQ(t[5].delay_ms, 10);
  EXPECT_EQ(t[6].kind, TurnKind::kText);
  EXPECT_EQ(t[6].usage.input_tokens, 100);  // the default
}

TEST(ScenarioTest, RejectsBadFilesWithThePlace) {
  EXPECT_EQ(ParseError("{not json"), "scenario is not valid JSON");
  EXPECT_NE(ParseError("{}").find("non-empty list"), std::string::npos);
  EXPECT_NE(ParseError(R"({"conversations": []})").find("non-empty list"), std::string::npos);
  EXPECT_EQ(ParseError(R"({"conversations": [{"match": "a", "turns": [{"bsh": "ls"}]}]})"),
            "conversations[0].turns[0]: unknown turn kind \"bsh\"");
  EXPECT_EQ(ParseError(R"({"conversations": [{"match": "a", "turns": [{"tool": {"name": "Rm"}}]}]})"),
            "conversations[0].turns[0]: unknown tool \"Rm\"");
  EXPECT_NE(ParseError(R"({"conversations": [{"match": "a", "turns": []}]})").find("turns"), std::string::npos);
  EXPECT_NE(ParseError(R"({"conversations": [{"turns": [{"text": "x"}]}]})").find("match"), std::string::npos);
  EXPECT_NE(ParseError(R"({"conversations": [{"match": "a", "turns": [{"bash": "ls", "text": "x", "read": {"path": "p"}}]}]})")
                .find("exactly one"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"conversations": [{"match": "a", "turns": [{"error": {"status": 200}}]}]})").find("400..599"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"conversations": [{"match": "a", "turns": [{"text": "x", "times": 2}]}]})").find("error turns"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"conversations": [{"match": "a", "turns": [{"text": "x", "delay_ms": -1}]}]})")
                .find("non-negative"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"conversations": [{"match": "a", "turns": [{"write": {"path": "p"}}]}]})").find("content"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"conversations": [{"default": true, "turns": [{"text": "a"}]},
                                             {"default": true, "turns": [{"text": "b"}]}]})")
                .find("more than one default"),
            std::string::npos);
}

TEST(ScenarioTest, FindsConversationByMarkerThenDefault) {
  Scenario s = MustParse(R"({"conversations": [
    {"default": true, "turns": [{"text": "d"}]},
    {"match": "T-1", "turns": [{"text": "one"}]},
    {"match": "T-2", "turns": [{"text": "two"}]}]})");
  EXPECT_EQ(FindConversation(s, "please do T-2 now"), 2u);
  EXPECT_EQ(FindConversation(s, "T-1"), 1u);
  EXPECT_EQ(FindConversation(s, "something else"), 0u);
  Scenario no_default = MustParse(R"({"conversations": [{"match": "T-1", "turns": [{"text": "one"}]}]})");
  EXPECT_FALSE(FindConversation(no_default, "other").has_value());
}

TEST(ScenarioTest, ListMatchNeedsEveryMarker) {
  // The later prompt of one task (its marker plus "rejected") is told apart
  // from its first prompt by listing the more specific conversation first.
  Scenario s = MustParse(R"({"conversations": [
    {"match": ["T-1", "rejected"], "turns": [{"text": "fix"}]},
    {"match": "T-1", "turns": [{"text": "first"}]}]})");
  EXPECT_EQ(FindConversation(s, "do T-1; the previous patch was rejected"), 0u);
  EXPECT_EQ(FindConversation(s, "do T-1"), 1u);
  EXPECT_FALSE(FindConversation(s, "rejected alone").has_value());
  EXPECT_EQ(s.conversations[0].name, "T-1 + rejected");
  EXPECT_NE(ParseError(R"({"conversations": [{"match": [], "turns": [{"text": "x"}]}]})").find("match"), std::string::npos);
  EXPECT_NE(ParseError(R"({"conversations": [{"match": ["a", 3], "turns": [{"text": "x"}]}]})").find("match"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"conversations": [{"match": ["a", ""], "turns": [{"text": "x"}]}]})").find("empty"),
            std::string::npos);
}

TEST(ScenarioTest, ErrorTurnsAnswerRetriesBeforeTheirAnswer) {
  Scenario s = MustParse(R"({"conversations": [{"match": "x", "turns": [
    {"bash": "a"},
    {"error": {"status": 429}, "times": 2},
    {"error": {"status": 500}, "times": 1},
    {"text": "end"}]}]})");
  const Conversation& c = s.conversations[0];
  EXPECT_EQ(PickTurn(c, 0, 0).turn->command, "a");
  EXPECT_EQ(PickTurn(c, 0, 5).turn->command, "a");  // answers ignore the attempt count
  EXPECT_EQ(PickTurn(c, 1, 0).turn->http_status, 429);
  EXPECT_EQ(PickTurn(c, 1, 1).turn->http_status, 429);
  EXPECT_EQ(PickTurn(c, 1, 2).turn->http_status, 500);
  Pick last = PickTurn(c, 1, 3);
  EXPECT_EQ(last.turn->text, "end");
  EXPECT_TRUE(last.is_last);
  EXPECT_EQ(PickTurn(c, 2, 0).turn, nullptr);  // past the end: not covered
}

TEST(ScenarioTest, ErrorWithoutTimesNeverGivesWay) {
  Scenario s = MustParse(R"({"conversations": [{"match": "x", "turns": [{"error": {"status": 529}}]}]})");
  for (int attempt : {0, 1, 10, 100}) EXPECT_EQ(PickTurn(s.conversations[0], 0, attempt).turn->http_status, 529);
  Scenario limited = MustParse(R"({"conversations": [{"match": "x", "turns": [{"error": {"status": 500}, "times": 1}]}]})");
  EXPECT_EQ(PickTurn(limited.conversations[0], 0, 1).turn, nullptr);
}

}  // namespace
}  // namespace pipeline::stub
