#include "sched/prompt.h"

#include <gtest/gtest.h>

namespace pipeline {
namespace {

size_t Count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + needle.size())) ++n;
  return n;
}

PromptInput Retry() {
  PromptInput in;
  in.workspace = "/repo/.pipeline/worktrees/t-3";
  in.run_id = "pipeline-src-api-t-3-2";
  in.task_id = "t-3";
  in.title = "Add /health";
  in.domain = "src/api";
  in.ns = "src/api";
  in.patchset = 1;
  in.feedback = "verification failed\nhealth.c:3: error: expected ';'";
  in.comments = {
      {"system", "Pipeline scheduler: started run=pipeline-src-api-t-3-1 domain=src/api"},
      {"system", "Pipeline scheduler: run=pipeline-src-api-t-3-1 domain=src/api status=done cost=4c"},
      {"system", "Pipeline: verification failed (run=x), re-opening as a new patchset:\nhealth.c:3: error: expected ';'"},
      {"human", "Keep the handler in src/api/health.c"},
  };
  return in;
}

TEST(DevPrompt, NoToolchainUnlessConfigured) {
  PromptInput in = Retry();
  std::string p = RenderDevPrompt(in);
  EXPECT_EQ(p.find("toolchain:"), std::string::npos) << p;
  EXPECT_EQ(p.rfind("---\nworkspace: /repo/.pipeline/worktrees/t-3\n", 0), 0u) << p;
  in.toolchain = "c";
  EXPECT_EQ(RenderDevPrompt(in).rfind("---\ntoolchain: c\n", 0), 0u);
}

TEST(DevPrompt, FeedbackOnceAndNoBookkeeping) {
  std::string p = RenderDevPrompt(Retry());
  EXPECT_EQ(Count(p, "expected ';'"), 1u) << p;
  EXPECT_EQ(p.find("Pipeline scheduler:"), std::string::npos) << p;
  EXPECT_EQ(p.find("[system]"), std::string::npos) << p;
  EXPECT_NE(p.find("- [human] Keep the handler in src/api/health.c\n"), std::string::npos) << p;
  EXPECT_NE(p.find("The previous patchset was rejected"), std::string::npos);
}

TEST(DevPrompt, AReviewersRejectionIsNotRepeated) {
  PromptInput in = Retry();
  in.feedback = "the endpoint must return JSON";
  in.comments = {{"alice", "Rejected by alice: the endpoint must return JSON"}, {"human", "see RFC 8259"}};
  std::string p = RenderDevPrompt(in);
  EXPECT_EQ(Count(p, "the endpoint must return JSON"), 1u) << p;
  EXPECT_NE(p.find("- [human] see RFC 8259"), std::string::npos);
}

TEST(DevPrompt, OwnWordsOnly) {
  std::string p = RenderDevPrompt(Retry());
  for (const char* word : {"seed", "Seed", "haskell", "Omni", ".hs"}) EXPECT_EQ(p.find(word), std::string::npos) << word;
}

}  // namespace
}  // namespace pipeline
