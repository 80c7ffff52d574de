// The dev prompt a run starts from: a frontmatter block (docs/cli-agent.md),
// then the task: title, description, the conversation about it (comments
// with author tags), why the previous patchset was rejected, and how to ask a
// question instead of guessing. The frontmatter carries only what is
// configured; the scheduler's own bookkeeping comments stay out of the body.
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
  std::string toolchain;  // empty: no toolchain line
  std::string workspace;  // absolute path of the task's worktree
  std::string run_id;
  std::string task_id;
  std::optional<std::string> provider, model;
  std::optional<int64_t> max_iter, max_cost_cents;
  // Body.
  std::string title, description, domain, ns;
  int64_t patchset = 0;
  std::vector<PromptComment> comments;  // all of them; RenderDevPrompt picks what the agent needs
  std::optional<std::string> feedback;   // why the previous patchset was rejected
  std::optional<std::string> task_json;  // external mode: `task show` output, re-encoded
  std::string comment_command = "pipeline task comment";  // how the agent asks a question
};

// Frontmatter values are single lines; a value holding a newline or another
// control character would forge keys, so it is refused (kInvalidArgument).
Status CheckFrontmatterValue(const std::string& key, const std::string& value);

// The scheduler's comments ("system": started, harvested, re-opened) are its
// record for people, not instructions: the agent is not shown them, and the
// rejection they carry reaches it once, as the feedback.
bool ShownToAgent(const PromptComment& c, const std::optional<std::string>& feedback);

// The whole file. REQUIRES: every frontmatter value passes CheckFrontmatterValue.
std::string RenderDevPrompt(const PromptInput& in);

}  // namespace pipeline
