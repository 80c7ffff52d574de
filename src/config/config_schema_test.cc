#include "config/config_schema.h"

#include <gtest/gtest.h>

#include "config/config.h"

namespace pipeline {
namespace {

// The header of a section as a user writes it, wildcards filled.
std::string Header(const ConfigSectionSpec& sec) {
  std::string path(sec.path);
  if (auto star = path.find('*'); star != std::string::npos) path.replace(star, 1, "\"" + std::string(sec.example_name) + "\"");
  return sec.array_of_tables ? "[[" + path + "]]" : "[" + path + "]";
}

// Every section with every key set to the value `pipeline init` shows.
std::string EveryKey() {
  std::string s;
  for (const auto& sec : ConfigSchema()) {
    s += Header(sec) + "\n";
    for (const auto& k : sec.keys) s += std::string(k.name) + " = " + std::string(k.shown) + "\n";
  }
  return s;
}

TEST(ConfigSchemaTest, EveryKeyOfTheSchemaIsAccepted) {
  for (const auto& sec : ConfigSchema())
    for (const auto& k : sec.keys) EXPECT_FALSE(k.shown.empty()) << sec.path << "." << k.name << " is not shown";
  auto c = Config::Parse(EveryKey(), "all.toml");
  ASSERT_TRUE(c.ok()) << c.message() << "\n" << EveryKey();
  EXPECT_TRUE(c->Has("verify.command"));
  EXPECT_TRUE(c->Has("profiles.\"my-agent\".env"));
  EXPECT_TRUE(c->Has("domain_rules"));
}

TEST(ConfigSchemaTest, DefaultTextShowsEveryKeyAndParses) {
  std::string text = DefaultConfigText();
  auto c = Config::Parse(text, "default");
  ASSERT_TRUE(c.ok()) << c.message();
  for (const auto& sec : ConfigSchema()) {
    for (const auto& k : sec.keys)
      EXPECT_NE(text.find("# " + std::string(k.name) + " = " + std::string(k.shown)), std::string::npos)
          << sec.path << "." << k.name;
  }
  // The two choices come first.
  size_t agent = text.find("[agent]"), verify = text.find("[verify]"), sched = text.find("[scheduler]");
  ASSERT_NE(agent, std::string::npos);
  EXPECT_LT(agent, sched);
  EXPECT_LT(verify, sched);
  EXPECT_EQ(text.find("seed"), std::string::npos);
  EXPECT_EQ(text.find("haskell"), std::string::npos);
}

TEST(ConfigSchemaTest, TypoInAVerifyKeyNamesFileLineAndTheKnownKey) {
  auto c = Config::Parse("# config\n[fund]\ndefault_budget_cents = 100\n\n[verify]\ntimeout_s = 60\ncomand = [\"make\"]\n",
                         ".pipeline/config.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(c.message(), ".pipeline/config.toml:7: unknown key verify.comand; did you mean command?");
}

TEST(ConfigSchemaTest, TypoOfEveryKeyInEverySectionIsCaughtWithTheSuggestion) {
  for (const auto& sec : ConfigSchema()) {
    for (const auto& k : sec.keys) {
      std::string name(k.name);
      std::string typo = name.substr(0, name.size() - 1);  // the last letter lost
      std::string text = "\n" + Header(sec) + "\n" + typo + " = " + std::string(k.shown) + "\n";
      auto c = Config::Parse(text, "cfg.toml");
      ASSERT_FALSE(c.ok()) << sec.path << "." << typo << " was accepted";
      EXPECT_NE(c.message().find("cfg.toml:3: unknown key "), std::string::npos) << c.message();
      EXPECT_NE(c.message().find("." + typo + ";"), std::string::npos) << c.message();
      EXPECT_NE(c.message().find("did you mean " + name + "?"), std::string::npos) << c.message();
    }
  }
}

TEST(ConfigSchemaTest, MisspelledSectionIsCaught) {
  auto c = Config::Parse("[scheduler]\nmax_active = 2\n[verfy]\ncommand = [\"make\", \"test\"]\n", "cfg.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.message(), "cfg.toml:3: unknown section [verfy]; did you mean [verify]?");
  c = Config::Parse("[verify.domain.\"docs\"]\ncommand = []\n", "cfg.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.message().find("unknown section [verify.domain]; did you mean [verify.domains]?"), std::string::npos)
      << c.message();
  c = Config::Parse("[profile.mine]\ncommand = [\"x\"]\n", "cfg.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.message().find("did you mean [profiles]?"), std::string::npos) << c.message();
}

TEST(ConfigSchemaTest, NamedTablesHaveTheirOwnKeys) {
  EXPECT_TRUE(Config::Parse("[profiles.\"my agent\"]\ncommand = [\"a\"]\nreader = \"command\"\nenv = { A = \"1\" }\n"
                            "[pricing.\"gpt-5\"]\ninput_usd_per_mtok = 1\n[domains.\"src/api\"]\nmax_active = 2\n"
                            "[verify.domains.\"docs\"]\ncommand = []\ntimeout_s = 5\n"
                            "[[domain_rules]]\nmatch = \"src/*\"\ndomain = \"src\"\n",
                            "ok.toml")
                  .ok());
  auto c = Config::Parse("[profiles.mine]\ncommand = [\"a\"]\nredaer = \"command\"\n", "cfg.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.message(), "cfg.toml:3: unknown key profiles.mine.redaer; did you mean reader?");
  // A key of another kind of table is not accepted here.
  c = Config::Parse("[domains.\"src/api\"]\ncommand = [\"make\"]\n", "cfg.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.message().find("unknown key domains.\"src/api\".command"), std::string::npos) << c.message();
  c = Config::Parse("[domain_rules]\nmatch = \"a\"\ndomain = \"b\"\n", "cfg.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.message().find("[[domain_rules]]"), std::string::npos) << c.message();
}

TEST(ConfigSchemaTest, RightKeyInTheWrongSectionPointsToItsSection) {
  auto c = Config::Parse("max_activ = 3\n", "cfg.toml");
  ASSERT_FALSE(c.ok());
  c = Config::Parse("[agent]\nmax_active = 3\n", "cfg.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.message(), "cfg.toml:2: unknown key agent.max_active; did you mean scheduler.max_active?");
  c = Config::Parse("[scheduler]\nmax_activ = 3\n", "cfg.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.message(), "cfg.toml:2: unknown key scheduler.max_activ; did you mean max_active?");
}

TEST(ConfigSchemaTest, WrongTypeNamesTheLine) {
  auto c = Config::Parse("[scheduler]\n\nmax_active = \"eight\"\n", "cfg.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.message(), "cfg.toml:3: key scheduler.max_active must be an integer");
  c = Config::Parse("[verify]\ncommand = \"make test\"\n", "cfg.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.message(), "cfg.toml:2: key verify.command must be an array of strings");
}

TEST(ConfigSchemaTest, NearestNameOnlyForLikelyTypos) {
  EXPECT_EQ(NearestName("comand", {"command", "timeout_s"}), "command");
  EXPECT_EQ(NearestName("tiemout_s", {"command", "timeout_s"}), "timeout_s");
  EXPECT_EQ(NearestName("colour", {"command", "timeout_s"}), "");
}

}  // namespace
}  // namespace pipeline
