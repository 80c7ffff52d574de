#include "agent/pricing.h"

#include <gtest/gtest.h>

namespace pipeline {
namespace {

TEST(PricingTest, LongestPrefixWins) {
  PricingTable t;
  EXPECT_DOUBLE_EQ(t.Lookup("claude-opus-4-5-20251101").input, 5.0);
  EXPECT_DOUBLE_EQ(t.Lookup("claude-opus-4-20250514").input, 15.0);
  EXPECT_DOUBLE_EQ(t.Lookup("gpt-5-mini").output, 2.0);
  EXPECT_DOUBLE_EQ(t.Lookup("gpt-5").output, 10.0);
}

TEST(PricingTest, UnknownModelIsNeverFree) {
  PricingTable t;
  ModelPrice p = t.Lookup("some-new-model");
  EXPECT_GT(p.input, 0);
  EXPECT_GT(p.output, 0);
}

TEST(PricingTest, CostInCents) {
  PricingTable t;
  TokenUsage u;
  u.input = 1'000'000;   // $3
  u.output = 100'000;    // $1.5
  u.cache_read = 1'000'000;  // $0.30
  EXPECT_NEAR(t.CostCents("claude-sonnet-4-5", u), 480.0, 1e-9);
}

TEST(PricingTest, ConfigAddsAndOverrides) {
  auto c = Config::Parse(
      "[pricing.\"my-model\"]\ninput_usd_per_mtok = 1\noutput_usd_per_mtok = 2\n"
      "[pricing.\"gpt-5\"]\ninput_usd_per_mtok = 100\n",
      "test.toml");
  ASSERT_TRUE(c.ok()) << c.message();
  auto t = PricingTable::FromConfig(*c);
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_DOUBLE_EQ(t->Lookup("my-model-v2").output, 2.0);
  EXPECT_DOUBLE_EQ(t->Lookup("gpt-5").input, 100.0);
  EXPECT_DOUBLE_EQ(t->Lookup("gpt-5").output, 0.0);  // a configured entry replaces the whole price
}

TEST(PricingTest, WrongTypeInConfigIsAnError) {
  // Refused with the file (config_schema), naming the key and its line.
  auto c = Config::Parse("[pricing.\"m\"]\ninput_usd_per_mtok = \"cheap\"\n", "test.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.message().find("test.toml:2: key pricing.m.input_usd_per_mtok must be a number"), std::string::npos)
      << c.message();
}

}  // namespace
}  // namespace pipeline
