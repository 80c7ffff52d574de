#include "config/verify.h"

#include <gtest/gtest.h>

namespace pipeline {
namespace {

VerifyConfig Read(const std::string& text) {
  auto c = Config::Parse(text, "config.toml");
  EXPECT_TRUE(c.ok()) << c.message();
  if (!c.ok()) return {};
  auto v = ReadVerifyConfig(*c);
  EXPECT_TRUE(v.ok()) << v.message();
  return v.ok() ? *v : VerifyConfig{};
}

// The first error the file gives: a wrong type is refused when the file is
// parsed (config_check.h), a wrong value when [verify] is read.
Error ReadError(const std::string& text) {
  auto c = Config::Parse(text, "config.toml");
  if (!c.ok()) return c.error();
  auto v = ReadVerifyConfig(*c);
  EXPECT_FALSE(v.ok());
  return v.ok() ? Error{ErrorKind::kIO, "no error"} : v.error();
}

TEST(VerifyConfig, NoneConfiguredMeansNoCheck) {
  auto v = ReadVerifyConfig(Config());
  ASSERT_TRUE(v.ok()) << v.message();
  EXPECT_FALSE(v->For("Omni/A.hs", "Omni/A.hs").has_value());
}

TEST(VerifyConfig, DefaultCommandWithPlaceholders) {
  VerifyConfig c = Read("[verify]\ncommand = [\"bild\", \"--test\", \"{namespace}\", \"d={domain}\"]\ntimeout_s = 60\n");
  auto v = c.For("omni", "Omni/A.hs");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->argv, (std::vector<std::string>{"bild", "--test", "Omni/A.hs", "d=omni"}));
  EXPECT_EQ(v->timeout_s, 60);
}

TEST(VerifyConfig, DomainOverridesCommandAndTimeout) {
  VerifyConfig c = Read(
      "[verify]\ncommand = [\"make\", \"test\"]\n"
      "[verify.domains.\"Omni/A.hs\"]\ncommand = [\"runghc\", \"{namespace}\"]\ntimeout_s = 5\n"
      "[verify.domains.\"b\"]\ntimeout_s = 7\n");
  auto a = c.For("Omni/A.hs", "Omni/A.hs");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->argv, (std::vector<std::string>{"runghc", "Omni/A.hs"}));
  EXPECT_EQ(a->timeout_s, 5);
  // A domain table without a command inherits the default command.
  auto b = c.For("b", "");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->argv, (std::vector<std::string>{"make", "test"}));
  EXPECT_EQ(b->timeout_s, 7);
  auto other = c.For("other", "x");
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->argv, (std::vector<std::string>{"make", "test"}));
  EXPECT_EQ(other->timeout_s, kDefaultVerifyTimeoutS);
}

TEST(VerifyConfig, DomainWithoutTimeoutInheritsTheDefaultTimeout) {
  VerifyConfig c = Read("[verify]\ntimeout_s = 42\n[verify.domains.api]\ncommand = [\"t\", \"{domain}\"]\n");
  auto v = c.For("api", "src/api");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->argv, (std::vector<std::string>{"t", "api"}));
  EXPECT_EQ(v->timeout_s, 42);
  // Only that domain has a command.
  EXPECT_FALSE(c.For("web", "src/web").has_value());
}

TEST(VerifyConfig, EmptyArrayTurnsTheCheckOffForADomain) {
  VerifyConfig c = Read("[verify]\ncommand = [\"make\"]\n[verify.domains.docs]\ncommand = []\n");
  EXPECT_FALSE(c.For("docs", "docs").has_value());
  EXPECT_TRUE(c.For("code", "code").has_value());
}

TEST(VerifyConfig, EmptyDomainUsesTheDefault) {
  VerifyConfig c = Read("[verify]\ncommand = [\"make\", \"{domain}\"]\n[verify.domains.\"\"]\ncommand = [\"no\"]\n");
  auto v = c.For("", "");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->argv, (std::vector<std::string>{"make", ""}));
}

TEST(VerifyConfig, NamespaceIsSubstitutedOnce) {
  VerifyConfig c = Read("[verify]\ncommand = [\"t\", \"{namespace}\"]\n");
  auto v = c.For("d", "x{domain}y");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->argv[1], "x{domain}y");
}

TEST(VerifyConfig, MistakesInAnyTableAreErrorsNamingTheKey) {
  EXPECT_EQ(ReadError("[verify]\ncommand = \"make test\"\n").kind, ErrorKind::kInvalidArgument);
  Error zero = ReadError("[verify]\ncommand = [\"make\"]\ntimeout_s = 0\n");
  EXPECT_EQ(zero.kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(zero.message.find("verify.timeout_s"), std::string::npos) << zero.message;
  EXPECT_EQ(ReadError("[verify]\ncommand = [\"\"]\n").kind, ErrorKind::kInvalidArgument);
  // A domain nobody has worked on yet is checked too.
  Error dom = ReadError("[verify]\ncommand = [\"make\"]\n[verify.domains.later]\ntimeout_s = \"soon\"\n");
  EXPECT_EQ(dom.kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(dom.message.find("later"), std::string::npos) << dom.message;
  EXPECT_NE(dom.message.find("timeout_s"), std::string::npos) << dom.message;
}

}  // namespace
}  // namespace pipeline
