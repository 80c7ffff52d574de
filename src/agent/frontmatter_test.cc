#include "agent/frontmatter.h"

#include <gtest/gtest.h>

#include "testutil/testutil.h"

namespace pipeline {
namespace {

// The layout the seed scheduler writes (docs/protocol.md, "The prompt file").
constexpr const char* kSeedPrompt =
    "---\n"
    "toolchain: haskell\n"
    "workspace: .\n"
    "provider: anthropic\n"
    "model: claude-sonnet-4-5\n"
    "max_iterations: 40\n"
    "max_cost_cents: 250\n"
    "---\n"
    "\n"
    "# Pipeline Scheduled Task\n"
    "\n"
    "- Task ID: t-1\n\n";

TEST(FrontmatterTest, ParsesTheSeedLayout) {
  auto p = ParsePrompt(kSeedPrompt);
  ASSERT_TRUE(p.ok()) << p.message();
  EXPECT_EQ(p->toolchain, "haskell");
  EXPECT_EQ(p->workspace, ".");
  EXPECT_EQ(p->provider, "anthropic");
  EXPECT_EQ(p->model, "claude-sonnet-4-5");
  EXPECT_EQ(p->max_iterations, 40);
  EXPECT_EQ(p->max_cost_cents, 250);
  EXPECT_FALSE(p->timeout_s.has_value());
  EXPECT_TRUE(p->unknown.empty());
  EXPECT_EQ(p->body, "\n# Pipeline Scheduled Task\n\n- Task ID: t-1\n\n");
}

TEST(FrontmatterTest, AcceptsQuotedValuesOurKeysAndKeepsUnknownOnes) {
  auto p = ParsePrompt(
      "---\r\nprofile: \"claude-code\"\r\ntimeout_s: '90'\r\ntask_id: t-7\r\nrun_id: r1\r\ncolour: blue: green\r\n"
      "---\r\nbody");
  ASSERT_TRUE(p.ok()) << p.message();
  EXPECT_EQ(p->profile, "claude-code");
  EXPECT_EQ(p->timeout_s, 90);
  EXPECT_EQ(p->task_id, "t-7");
  EXPECT_EQ(p->run_id, "r1");
  ASSERT_EQ(p->unknown.size(), 1u);
  EXPECT_EQ(p->unknown[0].first, "colour");
  EXPECT_EQ(p->unknown[0].second, "blue: green");  // only the first ':' splits
  EXPECT_EQ(p->body, "body");
}

TEST(FrontmatterTest, NoFrontmatterMeansAllBody) {
  auto p = ParsePrompt("# Just a prompt\n---\nnot: frontmatter\n");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->model.has_value());
  EXPECT_EQ(p->body, "# Just a prompt\n---\nnot: frontmatter\n");
}

TEST(FrontmatterTest, EmptyValuesAreAbsent) {
  auto p = ParsePrompt("---\nmodel:\nmax_iterations:\n---\n");
  ASSERT_TRUE(p.ok()) << p.message();
  EXPECT_FALSE(p->model.has_value());
  EXPECT_FALSE(p->max_iterations.has_value());
}

TEST(FrontmatterTest, RejectsMalformedBlocks) {
  struct Case {
    const char* text;
    const char* why;
  } cases[] = {
      {"---\nmodel: x\n", "not closed"},
      {"---\nmodel x\n---\n", "line 2"},
      {"---\nmax_iterations: lots\n---\n", "max_iterations"},
      {"---\nmax_cost_cents: -5\n---\n", "max_cost_cents"},
      {"---\ntimeout_s: 1.5\n---\n", "timeout_s"},
      {"---\nmodel: a\nmodel: b\n---\n", "duplicate"},
      {"---\n: x\n---\n", "empty key"},
  };
  for (const auto& c : cases) {
    auto p = ParsePrompt(c.text);
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(p.message().find(c.why), std::string::npos) << p.message();
  }
}

TEST(FrontmatterTest, MissingFileIsNotFound) {
  testing::TempDir dir;
  auto p = ReadPromptFile(dir / "nope.md");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.kind(), ErrorKind::kNotFound);
  testing::WriteTextFile(dir / "bad.md", "---\nmodel x\n---\n");
  auto bad = ReadPromptFile(dir / "bad.md");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.kind(), ErrorKind::kInvalidArgument);
  EXPECT_NE(bad.message().find("bad.md"), std::string::npos);
}

}  // namespace
}  // namespace pipeline
