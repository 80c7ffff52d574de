// The dev prompt a run starts from: the seed's file layout (docs/protocol.md,
// "The prompt file": frontmatter, then the body) with what the seed left out (the run
// id, the task's own workspace) and what the old pipeline's dev prompt said
// (title, description, comments with author tags, the previous patchset's
// rejection, how to ask a question instead of guessing).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace pipeline {

struct PromptComment {
  std::string author;  // "human" | "system" | "agent:<role>"
  std::string text;
};

struct PromptInput {
  // Frontmatter.
  std::string toolchain;
  std::string workspace;  // absolute path of the task's worktree
  std::string run_id;
  std::string task_id;
  std::optional<std::string> provider, model;
  std::optional<int64_t> max_iter, max_cost_cents;
  // Body.
  std::string title, description, domain, ns;
  int64_t patchset = 0;
  std::vector<PromptComment> comments;
  std::optional<std::string> feedback;   // why the previous patchset was rejected
  std::optional<std::string> task_json;  // external mode: `task show` output, re-encoded
  std::string comment_command = "pipeline task comment";  // how the agent asks a question
};

// Frontmatter values are single lines; a value holding a newline or another
// control character would forge keys, so it is refused (kInvalidArgument).
Status CheckFrontmatterValue(const std::string& key, const std::string& value);

// The whole file. REQUIRES: every frontmatter value passes CheckFrontmatterValue.
std::string RenderDevPrompt(const PromptInput& in);

}  // namespace pipeline
