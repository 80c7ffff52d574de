#include "cli/run_main.h"

#include <signal.h>

#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/dispatch.h"

namespace pipeline {
namespace {

// Every top-level command: one row each (cli/dispatch.h).
const CommandGroup& TopLevel() {
  static const CommandGroup kTop = {
      "pipeline",
      "Drive a backlog of software tasks through coding agents: tracker, budgets, supervision, verification, "
      "merge queue",
      {
          {"init", "Create the store (.pipeline/) in this repository", InitCommand},
          {"task", "The task tracker (`task` protocol, docs/protocol.md)", TaskCommand},
          {"fund", "The per-domain budget ledger (`fund` protocol, docs/protocol.md)", FundCommand},
          {"agent", "Start and supervise coding agents (`agentd` protocol, docs/protocol.md)", AgentCommand},
          {"run", "Work the backlog: schedule, verify and integrate", RunCommand},
          {"doctor", "Check the configuration and the repository before the first run", DoctorCommand},
          {"status", "What the pipeline is doing", StatusCommand},
          {"why", "Why a task is not running", WhyCommand},
          {"demo", "An offline end-to-end run on a sample project", DemoCommand},
          {"model-stub", "A scripted model server for offline agent runs", ModelStubCommand},
          {"integrate-task", "Integrate one task's branch into the base (merge-queue worker)", IntegrateTaskCommand},
          {"integrate-batch", "Integrate a batch of task branches, checked together (merge-queue worker)",
           IntegrateBatchCommand},
          {"integrate", "The merge queue: --recheck-base", IntegrateCommand},
          {"review", "Approve or reject work waiting in review", ReviewCommand},
          {"archive", "List commits kept from removed task branches", ArchiveCommand},
          {"gc", "Remove kept commits (see `archive list`)", GcCommand},
          {"serve", "The dashboard and JSON API of the store, in a browser", ServeCommand},
      },
  };
  return kTop;
}

std::string Basename(const char* argv0) {
  std::string s = argv0 ? argv0 : "";
  size_t slash = s.find_last_of('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

// Multi-call: invoked as task / pipeline-task (likewise fund, agentd), the
// binary is that subcommand, so it can stand in for the external programs.
int (*ImpliedCommand(const std::string& self))(const Args&) {
  if (self == "task" || self == "pipeline-task") return TaskCommand;
  if (self == "fund" || self == "pipeline-fund") return FundCommand;
  if (self == "agentd" || self == "pipeline-agentd") return AgentCommand;
  return nullptr;
}

}  // namespace

int RunMain(int argc, char** argv) {
  // A closed stdout (e.g. `pipeline task list | head`) must not kill us mid-transaction.
  signal(SIGPIPE, SIG_IGN);
  Args args(argv + 1, argv + argc);
  if (auto implied = ImpliedCommand(Basename(argv[0]))) return implied(args);
  if (!args.empty() && (args.front() == "--version" || args.front() == "version")) {
    printf("pipeline 0.1.0\n");
    return 0;
  }
  return Dispatch(TopLevel(), args);
}

}  // namespace pipeline
