#include <cstdlib>
#include <iostream>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/dispatch.h"
#include "demo/agent.h"
#include "demo/driver.h"

namespace pipeline {
namespace {

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// `pipeline demo agent PROMPT_FILE`: the scripted agent the demo's profile
// runs. Not listed in --help of `demo`: people run the demo, the demo runs this.
int DemoAgentCommand(const Args& args) {
  CLI::App app("The demo's scripted agent (stream-json on stdout)", "pipeline demo agent");
  demo::DemoAgentOptions o;
  app.add_option("prompt", o.prompt_path, "The prompt file the scheduler wrote")->required();
  app.add_option("--base", o.base, "Branch to start again from after a merge conflict")->capture_default_str();
  app.add_option("--workspace", o.workspace, "Checkout to work in (default: the current directory)");
  if (auto rc = ParseArgs(app, args)) return *rc;
  o.task_id = Env("PIPELINE_TASK_ID");
  o.author = Env("PIPELINE_AUTHOR");
  auto r = demo::RunDemoAgent(RealProcessRunner(), o, std::cout);
  std::cout.flush();
  if (!r.ok()) return Fail(r.error());
  return 0;
}

int DemoRunCommand(const Args& args) {
  CLI::App app(
      "An offline end-to-end run: a sample project, a backlog of ten tasks in three domains worked by the\n"
      "real Claude Code CLI against a local scripted model (or by the scripted agent), verification and\n"
      "integration, with a live view and a summary. No network and no account needed.",
      "pipeline demo");
  demo::DemoOptions o;
  bool no_watch = false;
  app.add_option("--dir", o.dir, "Build the sample project here (new or empty; default: a temporary directory)");
  app.add_flag("--keep", o.keep, "Keep the temporary directory afterwards");
  app.add_flag("--no-watch", no_watch, "Plain progress lines instead of the live view");
  app.add_option("--agent", o.agent,
                 "claude-code: the real Claude Code CLI, its model played by a local stub; "
                 "command: the scripted agent that ships with pipeline (needs only sh and git)")
      ->check(CLI::IsMember({"claude-code", "command"}))
      ->capture_default_str();
  app.add_option("--claude", o.claude_bin,
                 "The claude executable (default: tools/node_modules/.bin/claude of this source tree, else PATH)");
  app.add_option("--json-summary", o.json_summary, "Also write the summary as JSON to this file");
  app.add_option("--timeout", o.timeout_s, "Stop after this many seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--serve", o.serve, "Serve the dashboard (pipeline serve) while the demo runs; keeps the directory");
  if (auto rc = ParseArgs(app, args)) return *rc;
  o.watch = !no_watch;
  return demo::RunDemo(o);
}

}  // namespace

int DemoCommand(const Args& args) {
  // `pipeline demo [options]` runs the demo; `agent` is the one subcommand,
  // and is not listed: people run the demo, the demo runs it.
  static const CommandGroup kDemo = {
      "pipeline demo",
      "An offline end-to-end run on a sample project",
      {{"agent", "The demo's scripted agent", DemoAgentCommand, /*listed=*/false}},
      DemoRunCommand,
  };
  return Dispatch(kDemo, args);
}

}  // namespace pipeline
