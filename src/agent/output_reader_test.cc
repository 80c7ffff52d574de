#include "agent/output_reader.h"

#include <gtest/gtest.h>

#include <sstream>

#include "testutil/testutil.h"

namespace pipeline {
namespace {

void Feed(OutputReader& r, const std::string& fixture) {
  std::string text = testing::ReadTextFile(testing::SourceDir() + "/tests/fixtures/" + fixture);
  ASSERT_FALSE(text.empty()) << fixture;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) r.OnLine(line);
}

// USD per Mtok -> cents for a token count.
double Cents(double tokens, double usd_per_mtok) { return tokens * usd_per_mtok / 1e6 * 100; }

TEST(ClaudeReaderTest, PricesAssistantUsageOncePerMessageUntilTheResult) {
  PricingTable pricing;
  auto r = MakeClaudeReader(pricing, std::nullopt);
  std::string text = testing::ReadTextFile(testing::SourceDir() + "/tests/fixtures/claude_stream_ok.jsonl");
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 6u);
  for (size_t i = 0; i + 1 < lines.size(); ++i) r->OnLine(lines[i]);
  // Before the result: msg_01A (sent twice, one content block each) counts once, plus msg_01B,
  // at claude-sonnet-4-5 prices (3 / 15 / 0.30 read / 3.75 write).
  double a = Cents(1000, 3) + Cents(100, 15) + Cents(2000, 3.75);
  double b = Cents(10, 3) + Cents(200, 15) + Cents(3000, 0.30);
  EXPECT_NEAR(r->cost_cents(), a + b, 1e-9);
  EXPECT_EQ(r->turns(), 2);
  EXPECT_FALSE(r->error().has_value());
  // The result line is authoritative.
  r->OnLine(lines.back());
  EXPECT_NEAR(r->cost_cents(), 4.21, 1e-9);
  EXPECT_EQ(r->turns(), 3);
  EXPECT_FALSE(r->error().has_value());
}

TEST(ClaudeReaderTest, ErrorResultIsReported) {
  PricingTable pricing;
  auto r = MakeClaudeReader(pricing, std::nullopt);
  Feed(*r, "claude_stream_error.jsonl");
  ASSERT_TRUE(r->error().has_value());
  EXPECT_EQ(*r->error(), "error_max_turns");
  EXPECT_NEAR(r->cost_cents(), 0.23, 1e-9);
  EXPECT_EQ(r->turns(), 1);
}

TEST(ClaudeReaderTest, IgnoresNoise) {
  PricingTable pricing;
  auto r = MakeClaudeReader(pricing, std::nullopt);
  r->OnLine("not json");
  r->OnLine("{broken");
  r->OnLine("{\"type\":\"assistant\",\"message\":\"oops\"}");
  r->OnLine("[1,2,3]");
  EXPECT_EQ(r->cost_cents(), 0);
  EXPECT_EQ(r->turns(), 0);
}

TEST(CodexReaderTest, PricesEachCompletedTurn) {
  PricingTable pricing;
  auto r = MakeCodexReader(pricing, std::string("gpt-5"));
  Feed(*r, "codex_exec_ok.jsonl");
  // gpt-5: 1.25 input, 10 output, 0.125 cached; cached tokens are part of input_tokens.
  double t1 = Cents(24763 - 24448, 1.25) + Cents(24448, 0.125) + Cents(122, 10);
  double t2 = Cents(10000, 1.25) + Cents(1000, 10);
  EXPECT_NEAR(r->cost_cents(), t1 + t2, 1e-9);
  EXPECT_EQ(r->turns(), 2);
  EXPECT_FALSE(r->error().has_value());
}

TEST(CodexReaderTest, FailedTurnIsAnError) {
  PricingTable pricing;
  auto r = MakeCodexReader(pricing, std::nullopt);
  Feed(*r, "codex_exec_failed.jsonl");
  ASSERT_TRUE(r->error().has_value());
  EXPECT_NE(r->error()->find("rate limited"), std::string::npos);
  EXPECT_EQ(r->turns(), 0);
}

TEST(CommandReaderTest, LastCostWinsAndFractionsCount) {
  auto r = MakeCommandReader();
  r->OnLine("working...");
  r->OnLine("cost_cents: 12");
  r->OnLine("turns: 3");
  r->OnLine("  cost_cents:  40.5  ");
  r->OnLine("cost_cents: lots");  // ignored
  r->OnLine("cost_cents: -3");    // ignored
  EXPECT_DOUBLE_EQ(r->cost_cents(), 40.5);
  EXPECT_EQ(r->turns(), 3);
  EXPECT_FALSE(r->error().has_value());
}

TEST(ReaderFactoryTest, KnowsTheThreeReaders) {
  PricingTable pricing;
  for (const char* k : {"claude-code", "codex", "command"}) {
    EXPECT_TRUE(IsKnownReader(k));
    EXPECT_NE(MakeReader(k, pricing, std::nullopt), nullptr);
  }
  EXPECT_FALSE(IsKnownReader("gemini"));
  EXPECT_EQ(MakeReader("gemini", pricing, std::nullopt), nullptr);
}

}  // namespace
}  // namespace pipeline
