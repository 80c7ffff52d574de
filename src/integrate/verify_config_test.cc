#include "integrate/verify_config.h"

#include <gtest/gtest.h>

namespace pipeline {
namespace {

Config Parse(const std::string& text) {
  auto c = Config::Parse(text, "config.toml");
  EXPECT_TRUE(c.ok()) << c.message();
  return c.ok() ? std::move(c).value() : Config();
}

TEST(VerifyCommandFor, NoneConfiguredMeansNoCheck) {
  auto v = VerifyCommandFor(Config(), "Omni/A.hs", "Omni/A.hs");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->has_value());
}

TEST(VerifyCommandFor, DefaultCommandWithPlaceholders) {
  Config c = Parse("[verify]\ncommand = [\"bild\", \"--test\", \"{namespace}\", \"d={domain}\"]\ntimeout_s = 60\n");
  auto v = VerifyCommandFor(c, "omni", "Omni/A.hs");
  ASSERT_TRUE(v.ok()) << v.message();
  ASSERT_TRUE(v->has_value());
  EXPECT_EQ((*v)->argv, (std::vector<std::string>{"bild", "--test", "Omni/A.hs", "d=omni"}));
  EXPECT_EQ((*v)->timeout_s, 60);
}

TEST(VerifyCommandFor, DomainOverridesCommandAndTimeout) {
  Config c = Parse(
      "[verify]\ncommand = [\"make\", \"test\"]\n"
      "[verify.domains.\"Omni/A.hs\"]\ncommand = [\"runghc\", \"{namespace}\"]\ntimeout_s = 5\n"
      "[verify.domains.\"b\"]\ntimeout_s = 7\n");
  auto a = VerifyCommandFor(c, "Omni/A.hs", "Omni/A.hs");
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->argv, (std::vector<std::string>{"runghc", "Omni/A.hs"}));
  EXPECT_EQ((*a)->timeout_s, 5);
  // A domain table without a command inherits the default command.
  auto b = VerifyCommandFor(c, "b", "");
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->argv, (std::vector<std::string>{"make", "test"}));
  EXPECT_EQ((*b)->timeout_s, 7);
  auto other = VerifyCommandFor(c, "other", "x");
  ASSERT_TRUE(other.ok() && other->has_value());
  EXPECT_EQ((*other)->timeout_s, kDefaultVerifyTimeoutS);
}

TEST(VerifyCommandFor, EmptyArrayTurnsTheCheckOffForADomain) {
  Config c = Parse("[verify]\ncommand = [\"make\"]\n[verify.domains.docs]\ncommand = []\n");
  auto v = VerifyCommandFor(c, "docs", "docs");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->has_value());
}

TEST(VerifyCommandFor, NamespaceIsSubstitutedOnce) {
  Config c = Parse("[verify]\ncommand = [\"t\", \"{namespace}\"]\n");
  auto v = VerifyCommandFor(c, "d", "x{domain}y");
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ((*v)->argv[1], "x{domain}y");
}

TEST(VerifyCommandFor, WrongTypesAreErrors) {
  // A command that is not an array is refused with the file itself.
  EXPECT_EQ(Config::Parse("[verify]\ncommand = \"make test\"\n", "config.toml").kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(VerifyCommandFor(Parse("[verify]\ncommand = [\"make\"]\ntimeout_s = 0\n"), "", "").kind(),
            ErrorKind::kInvalidArgument);
  EXPECT_EQ(VerifyCommandFor(Parse("[verify]\ncommand = [\"\"]\n"), "", "").kind(), ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace pipeline
