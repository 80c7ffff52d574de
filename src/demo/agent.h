// The demo's scripted agent (`pipeline demo agent PROMPT_FILE`): a stand-in
// for a coding agent that needs no network and no key. It reads the prompt the
// scheduler wrote, finds which demo task it holds, and really does the work in
// its cwd (the task's worktree): edits files, commits with a `Task-Id:`
// trailer, or asks a question through `pipeline task comment`. It reports in
// Claude Code's stream-json format with a scripted cost.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "proc/process.h"
#include "util/status.h"

namespace pipeline::demo {

// What the agent learns from its prompt.
struct PromptFacts {
  std::string task_id;      // frontmatter task_id, else a "Task ID:" line
  std::string script_key;   // from the "demo-script: KEY" line of the description
  bool rejected = false;    // "The previous patchset was rejected: ..."
  bool conflict = false;    // ... because it did not merge
  bool answered = false;    // the person's answer to the question is in the prompt
  std::string feedback;     // the first non-empty line of the rejection
};
PromptFacts ReadPromptFacts(const std::string& prompt);

struct DemoAgentOptions {
  std::string prompt_path;
  std::string workspace;     // the checkout to work in (the cwd by default)
  std::string base = "main"; // the branch to start again from after a conflict
  std::string task_id;       // overrides the prompt ($PIPELINE_TASK_ID)
  std::string author;        // for the question ($PIPELINE_AUTHOR, else agent:engineer)
  std::string pipeline_bin;  // for `pipeline task ...` (this binary by default)
};

enum class AgentAction { kImplemented, kFixed, kRedone, kAsked, kNothingToDo };
const char* AgentActionName(AgentAction a);

struct DemoAgentReport {
  AgentAction action = AgentAction::kNothingToDo;
  int64_t cost_cents = 0;
  std::string commit;  // the new head when it committed
};

// Does the work and prints stream-json lines on out. An error (unreadable
// prompt, unknown task, git failure) is also reported as a result line with
// is_error true before it is returned.
Result<DemoAgentReport> RunDemoAgent(ProcessRunner& runner, const DemoAgentOptions& opts, std::ostream& out);

}  // namespace pipeline::demo
