// One handler per top-level subcommand. Each takes the arguments after its
// name and returns the process exit code (0 ok, 1 refused or not found,
// 2 usage). Handlers print at most one JSON document on stdout with --json,
// and send every log line to stderr.
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
int DemoCommand(const Args& args);
int ModelStubCommand(const Args& args);
int IntegrateTaskCommand(const Args& args);  // and ReviewCommand: integrate_command.cc
int ReviewCommand(const Args& args);

struct CommandInfo {
  const char* name;
  const char* help;
  int (*handler)(const Args&);
};
const std::vector<CommandInfo>& AllCommands();

}  // namespace pipeline
