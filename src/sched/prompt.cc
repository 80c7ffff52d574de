#include "sched/prompt.h"

#include <nlohmann/json.hpp>

namespace pipeline {

Status CheckFrontmatterValue(const std::string& key, const std::string& value) {
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f)
      return InvalidArgument("the prompt's " + key + " must be one line without control characters");
  return Status::Ok();
}

bool ShownToAgent(const PromptComment& c, const std::optional<std::string>& feedback) {
  if (c.author == "system") return false;
  // A reviewer's "Rejected by alice: <why>" repeats the feedback shown below.
  if (feedback && !feedback->empty() && c.text.find(*feedback) != std::string::npos) return false;
  return true;
}

std::string RenderDevPrompt(const PromptInput& in) {
  std::string s = "---\n";
  if (!in.toolchain.empty()) s += "toolchain: " + in.toolchain + "\n";
  s += "workspace: " + in.workspace + "\n";
  s += "run_id: " + in.run_id + "\n";
  s += "task_id: " + in.task_id + "\n";
  if (in.provider) s += "provider: " + *in.provider + "\n";
  if (in.model) s += "model: " + *in.model + "\n";
  if (in.max_iter) s += "max_iterations: " + std::to_string(*in.max_iter) + "\n";
  if (in.max_cost_cents) s += "max_cost_cents: " + std::to_string(*in.max_cost_cents) + "\n";
  s += "---\n\n";
  s += "# Pipeline Scheduled Task\n\n";
  s += "You were scheduled by the pipeline for domain-scoped autonomous work.\n\n";
  s += "## Scheduling Context\n";
  s += "- Task ID: " + in.task_id + "\n";
  s += "- Domain: " + in.domain + "\n";
  s += "- Namespace: " + in.ns + "\n";
  s += "- Run ID: " + in.run_id + "\n";
  s += "- Workspace: " + in.workspace + "\n";
  s += "- Patchset: " + std::to_string(in.patchset) + "\n\n";
  s += "## Task\n";
  s += "### " + in.title + "\n\n";
  if (!in.description.empty()) s += in.description + "\n\n";
  std::vector<const PromptComment*> shown;
  for (const auto& c : in.comments)
    if (ShownToAgent(c, in.feedback)) shown.push_back(&c);
  if (!shown.empty()) {
    s += "### Comments\n";
    for (const PromptComment* c : shown) s += "- [" + c->author + "] " + c->text + "\n";
    s += "\n";
  }
  if (in.feedback && !in.feedback->empty()) {
    s += "## Previous Patchset\n";
    s += "The previous patchset was rejected:\n\n```\n" + *in.feedback + "\n```\n\n";
    s += "Address this feedback in the new patchset.\n\n";
  }
  s += "## Required Workflow\n";
  s += "1. Read the project's own notes for contributors (AGENTS.md, CONTRIBUTING.md, README) and follow its conventions.\n";
  s += "2. Implement the task in your workspace (" + in.workspace + "), on its task branch.\n";
  s += "3. Build and run the tests that cover what you changed.\n";
  s += "4. Commit with trailer `Task-Id: " + in.task_id + "`.\n";
  s += "5. Do NOT change task status. The scheduler handles status transitions.\n";
  s += "6. If the task is ambiguous or missing critical details, ask with `" + in.comment_command + " " +
       in.task_id + " \"<question>\"` and exit 0 without committing.\n\n";
  if (in.task_json) {
    s += "## Task Record (JSON)\n";
    s += *in.task_json + "\n\n";
  }
  return s;
}

}  // namespace pipeline
