#include "agent/profile.h"

#include <gtest/gtest.h>

namespace pipeline {
namespace {

using Argv = std::vector<std::string>;

TEST(ProfileTest, SubstitutesElementWiseWithoutAShell) {
  Substitutions s;
  s.prompt_file = "/r/p.md";
  s.prompt = "fix it; rm -rf / {run_id} $(x)";
  s.workspace = "/w s";
  s.run_id = "run-1";
  s.model = "m1";
  s.max_iter = 7;
  Argv out = ExpandCommand({"prog", "--in={prompt_file}", "{prompt}", "-C", "{workspace}", "--model", "{model}",
                            "--max", "{max_iter}", "id:{run_id}", "{unknown}"},
                           s);
  // The prompt is one element, and the {run_id} inside it stays as written.
  EXPECT_EQ(out, (Argv{"prog", "--in=/r/p.md", "fix it; rm -rf / {run_id} $(x)", "-C", "/w s", "--model", "m1",
                       "--max", "7", "id:run-1", "{unknown}"}));
}

TEST(ProfileTest, AbsentOptionalValuesDropTheirOption) {
  Substitutions s;
  s.prompt = "p";
  Argv out = ExpandCommand({"claude", "-p", "{prompt}", "--max-turns", "{max_iter}", "--model", "{model}"}, s);
  EXPECT_EQ(out, (Argv{"claude", "-p", "p"}));
}

TEST(ProfileTest, BuiltInsAndConfigOverrides) {
  Config empty;
  auto claude = LoadProfile(empty, "claude-code");
  ASSERT_TRUE(claude.ok()) << claude.message();
  EXPECT_EQ(claude->reader, "claude-code");
  EXPECT_EQ(claude->command.front(), "claude");
  auto codex = LoadProfile(empty, "codex");
  ASSERT_TRUE(codex.ok());
  EXPECT_EQ(codex->reader, "codex");

  auto c = Config::Parse(
      "[profiles.mine]\ncommand = [\"bash\", \"agent.sh\", \"{prompt_file}\"]\nreader = \"claude-code\"\n"
      "env = { FOO = \"bar\" }\n"
      "[profiles.\"claude-code\"]\ncommand = [\"/opt/claude\", \"-p\", \"{prompt}\"]\n",
      "c.toml");
  ASSERT_TRUE(c.ok()) << c.message();
  auto mine = LoadProfile(*c, "mine");
  ASSERT_TRUE(mine.ok()) << mine.message();
  EXPECT_EQ(mine->command, (Argv{"bash", "agent.sh", "{prompt_file}"}));
  EXPECT_EQ(mine->reader, "claude-code");
  EXPECT_EQ(mine->env.at("FOO"), "bar");
  auto over = LoadProfile(*c, "claude-code");
  ASSERT_TRUE(over.ok());
  EXPECT_EQ(over->command.front(), "/opt/claude");
  EXPECT_EQ(over->reader, "claude-code");
}

// The stub environment written as config.toml comes back as the profile's
// env unchanged, quotes and backslashes in a path included.
TEST(ProfileTest, ModelServerEnvRoundTripsThroughTheConfig) {
  auto env = ClaudeCodeEnvForModelServer("http://127.0.0.1:4242", "/tmp/h \"q\" \\x");
  EXPECT_EQ(env.at("ANTHROPIC_BASE_URL"), "http://127.0.0.1:4242");
  EXPECT_EQ(env.at("CLAUDE_CONFIG_DIR"), "/tmp/h \"q\" \\x/.claude");
  auto c = Config::Parse("[profiles.\"claude-code\"]\nenv = " + EnvAsTomlInlineTable(env) + "\n", "c.toml");
  ASSERT_TRUE(c.ok()) << c.message();
  auto p = LoadProfile(*c, "claude-code");
  ASSERT_TRUE(p.ok()) << p.message();
  EXPECT_EQ(p->env, env);
  EXPECT_EQ(EnvAsTomlInlineTable({}), "{}");
}

TEST(ProfileTest, CommandProfileNeedsConfigAndUnknownNamesFail) {
  Config empty;
  auto cmd = LoadProfile(empty, "command");
  ASSERT_FALSE(cmd.ok());
  EXPECT_EQ(cmd.kind(), ErrorKind::kInvalidArgument);
  EXPECT_NE(cmd.message().find("[profiles.command]"), std::string::npos);
  auto unknown = LoadProfile(empty, "nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("unknown agent profile"), std::string::npos);
  auto c = Config::Parse("[profiles.x]\ncommand = [\"a\"]\nreader = \"gemini\"\n", "c.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(LoadProfile(*c, "x").ok());
}

TEST(ProfileTest, DefaultProfileComesFromConfig) {
  Config empty;
  EXPECT_EQ(*DefaultProfileName(empty), "command");
  auto c = Config::Parse("[agent]\nprofile = \"codex\"\n", "c.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*DefaultProfileName(*c), "codex");
}

TEST(ProfileTest, SandboxFieldsFromBuiltInsAndConfig) {
  auto builtin = LoadProfile(Config(), "claude-code");
  ASSERT_TRUE(builtin.ok());
  EXPECT_EQ(builtin->net_ports, (std::optional<std::vector<int>>(std::vector<int>{443})));
  EXPECT_EQ(builtin->credentials, (Argv{"~/.claude/.credentials.json"}));
  auto c = Config::Parse(
      "[profiles.x]\ncommand = [\"a\"]\ncredentials = [\"~/.x/token\"]\npass_env = [\"X_KEY\"]\nnet_ports = \"8080, 443\"\n",
      "t.toml");
  ASSERT_TRUE(c.ok());
  auto p = LoadProfile(*c, "x");
  ASSERT_TRUE(p.ok()) << p.message();
  EXPECT_EQ(p->credentials, (Argv{"~/.x/token"}));
  EXPECT_EQ(p->pass_env, (Argv{"X_KEY"}));
  EXPECT_EQ(p->net_ports, (std::optional<std::vector<int>>(std::vector<int>{8080, 443})));
  // The command profile restricts nothing unless told.
  auto cmd = Config::Parse("[profiles.command]\ncommand = [\"a\"]\n", "t.toml");
  EXPECT_FALSE(LoadProfile(*cmd, "command")->net_ports);
}

TEST(ProfileTest, NetPorts) {
  EXPECT_EQ(*ParseNetPorts("443"), (std::optional<std::vector<int>>(std::vector<int>{443})));
  EXPECT_FALSE(*ParseNetPorts("any"));
  EXPECT_EQ(*ParseNetPorts(""), (std::optional<std::vector<int>>(std::vector<int>{})));
  EXPECT_FALSE(ParseNetPorts("80,x").ok());
  EXPECT_FALSE(ParseNetPorts("70000").ok());
}

}  // namespace
}  // namespace pipeline
