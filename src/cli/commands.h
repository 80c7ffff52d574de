// One handler per top-level subcommand, listed in the table of run_main.cc
// (cli/dispatch.h explains how a command is found). Each takes the arguments
// after its name and returns the process exit code (0 ok, 1 refused or not
// found, 2 usage). Handlers print at most one JSON document on stdout with
// --json, and write every diagnostic line to stderr through util/log.h.
#pragma once

#include <string>
#include <vector>

namespace pipeline {

using Args = std::vector<std::string>;

int InitCommand(const Args& args);
int TaskCommand(const Args& args);
int FundCommand(const Args& args);
int AgentCommand(const Args& args);
int RunCommand(const Args& args);
int DoctorCommand(const Args& args);
int StatusCommand(const Args& args);
int WhyCommand(const Args& args);
int DemoCommand(const Args& args);
int ModelStubCommand(const Args& args);
int IntegrateTaskCommand(const Args& args);
int IntegrateBatchCommand(const Args& args);  // and IntegrateCommand: integrate_batch_command.cc
int IntegrateCommand(const Args& args);  // and ReviewCommand: integrate_command.cc
int ReviewCommand(const Args& args);
int ArchiveCommand(const Args& args);  // and GcCommand: gc_command.cc
int GcCommand(const Args& args);
int ServeCommand(const Args& args);  // serve_command.cc: runs pipeline-serve

// Subcommands of review, also reachable as `task approve|reject`.
int ReviewApproveCommand(const Args& args);
int ReviewRejectCommand(const Args& args);

}  // namespace pipeline
