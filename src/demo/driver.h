// `pipeline demo`: builds the textkit sample project in a directory, gives it
// a store, a config (the scripted agent as the `demo` profile, `sh
// tests/run.sh` as the verify command, small back-off), the backlog and the
// budgets, then drives the embedded scheduler in this process until every
// task is done, acting as the person where the scenario needs one (answering
// the question, topping up the docs budget), and prints the summary.
#pragma once

#include <cstdint>
#include <string>

namespace pipeline::demo {

struct DemoOptions {
  std::string dir;             // empty: a new directory under $TMPDIR
  bool keep = false;           // keep a temporary directory afterwards
  bool watch = true;           // live view on a terminal
  // "claude-code": the real Claude Code CLI against the in-process model
  // stub; "command": the scripted agent that ships with pipeline.
  std::string agent = "claude-code";
  std::string claude_bin;      // the claude executable (empty: FindClaudeCli)
  std::string json_summary;    // write the summary JSON here when set
  std::string self_exe;        // this binary (empty: /proc/self/exe)
  int64_t timeout_s = 300;     // give up (and say so) after this long
  bool serve = false;          // the dashboard (`pipeline serve`) while it runs; keeps the directory
};

// The config file the demo writes. agent_section: the [agent] and profile
// settings of the chosen agent (ScriptedAgentSection, or the Claude Code
// profile pointed at the model stub).
std::string DemoConfigText(const std::string& base, const std::string& agent_section);
// The scripted agent as profile "demo".
std::string ScriptedAgentSection(const std::string& self_exe, const std::string& base);

// Runs the whole demo; returns the exit code (0 when every task is done).
int RunDemo(const DemoOptions& opts);

}  // namespace pipeline::demo
