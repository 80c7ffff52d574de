#include "cli/run_main.h"

#include <signal.h>

#include <cstdio>
#include <exception>
#include <string>

#include "cli/commands.h"

namespace pipeline {

const std::vector<CommandInfo>& AllCommands() {
  static const std::vector<CommandInfo> kCommands = {
      {"init", "Create the store (.pipeline/) in this repository", InitCommand},
      {"task", "The task tracker (`task` protocol)", TaskCommand},
      {"fund", "The per-domain budget ledger (`fund` protocol)", FundCommand},
      {"agent", "Start and supervise coding agents (`agentd` protocol)", AgentCommand},
      {"run", "Work the backlog: schedule, verify and integrate", RunCommand},
      {"doctor", "Check the configuration and the repository before the first run", DoctorCommand},
      {"status", "What the pipeline is doing", StatusCommand},
      {"demo", "An offline end-to-end run on a sample project", DemoCommand},
      {"model-stub", "A scripted model server for offline agent runs", ModelStubCommand},
      {"integrate-task", "Integrate one task's branch into the base (merge-queue worker)", IntegrateTaskCommand},
      {"review", "Approve or reject work waiting in review", ReviewCommand},
  };
  return kCommands;
}

static void PrintUsage(FILE* out) {
  fprintf(out, "usage: pipeline <command> [args...]\n\ncommands:\n");
  for (const auto& c : AllCommands()) fprintf(out, "  %-11s %s\n", c.name, c.help);
  fprintf(out, "\nRun `pipeline <command> --help` for a command's options.\n");
}

static std::string Basename(const char* argv0) {
  std::string s = argv0 ? argv0 : "";
  size_t slash = s.find_last_of('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

int RunMain(int argc, char** argv) {
  // A closed stdout (e.g. `pipeline task list | head`) must not kill us mid-transaction.
  signal(SIGPIPE, SIG_IGN);
  Args args(argv + 1, argv + argc);
  // Multi-call: invoked as task / pipeline-task (likewise fund, agentd), act as that subcommand.
  std::string self = Basename(argv[0]);
  std::string implied;
  if (self == "task" || self == "pipeline-task") implied = "task";
  else if (self == "fund" || self == "pipeline-fund") implied = "fund";
  else if (self == "agentd" || self == "pipeline-agentd") implied = "agent";
  std::string name;
  if (!implied.empty()) {
    name = implied;
  } else {
    if (args.empty()) {
      PrintUsage(stderr);
      return 2;
    }
    name = args.front();
    args.erase(args.begin());
    if (name == "--help" || name == "-h" || name == "help") {
      PrintUsage(stdout);
      return 0;
    }
    if (name == "--version" || name == "version") {
      printf("pipeline 0.1.0\n");
      return 0;
    }
  }
  for (const auto& c : AllCommands()) {
    if (name != c.name) continue;
    try {
      return c.handler(args);
    } catch (const std::exception& e) {
      fprintf(stderr, "pipeline %s: internal error: %s\n", c.name, e.what());
      return 1;
    }
  }
  fprintf(stderr, "pipeline: unknown command '%s' (see `pipeline --help`)\n", name.c_str());
  return 2;
}

}  // namespace pipeline
