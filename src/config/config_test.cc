#include "config/config.h"

#include <gtest/gtest.h>

namespace pipeline {
namespace {

TEST(ConfigTest, TypedLookupsWithDefaults) {
  auto c = Config::Parse(R"(
[scheduler]
max_active = 4
[profiles."claude-code"]
command = ["claude", "-p"]
env = { A = "1" }
[[domain_rules]]
match = "src/api/*"
domain = "api"
)", "test.toml");
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_EQ(*c->IntOr("scheduler.max_active", 8), 4);
  EXPECT_EQ(*c->IntOr("scheduler.reserve_cents", 300), 300);
  auto cmd = c->StringArray("profiles.\"claude-code\".command");
  ASSERT_TRUE(cmd.ok());
  ASSERT_TRUE(cmd->has_value());
  EXPECT_EQ((**cmd), (std::vector<std::string>{"claude", "-p"}));
  auto env = c->StringMap("profiles.\"claude-code\".env");
  ASSERT_TRUE(env.ok() && env->has_value());
  EXPECT_EQ((**env).at("A"), "1");
  EXPECT_EQ(c->Keys("profiles"), (std::vector<std::string>{"claude-code"}));
  auto rules = c->TableArray("domain_rules");
  ASSERT_TRUE(rules.ok());
  ASSERT_EQ(rules->size(), 1u);
  EXPECT_EQ((*rules)[0].at("domain"), "api");
}

TEST(ConfigTest, WrongTypeIsAnErrorNamingTheKey) {
  // Refused when the file is read...
  auto bad = Config::Parse("[scheduler]\nmax_active = \"eight\"\n", "cfg.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("scheduler.max_active"), std::string::npos);
  // ...and by the typed lookups, for a key read as another type than it holds.
  auto c = Config::Parse("[scheduler]\nbase = \"main\"\n", "cfg.toml");
  ASSERT_TRUE(c.ok());
  auto v = c->IntOr("scheduler.base", 8);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.message().find("scheduler.base"), std::string::npos);
}

TEST(ConfigTest, MalformedFileGivesLineAndColumn) {
  auto c = Config::Parse("[scheduler\nmax_active = 1\n", "cfg.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.kind(), ErrorKind::kInvalidArgument);
  EXPECT_NE(c.message().find("cfg.toml:1:"), std::string::npos);
}

TEST(ConfigTest, MissingFileIsEmptyAndDefaultTextParses) {
  auto c = Config::Load("/nonexistent/config.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->Has("scheduler"));
  auto d = Config::Parse(DefaultConfigText(), "default");
  ASSERT_TRUE(d.ok()) << d.message();
}

}  // namespace
}  // namespace pipeline
