// How every command with subcommands finds its handler: a table of
// (name, help, handler) rows and one Dispatch over it. The top level
// (`pipeline <command>`) is such a table (AllCommands, run_main.cc), and so
// are `task`, `task dep`, `fund`, `agent`, `review` and `demo`. A handler gets
// the arguments after its name and parses them itself with CLI11, so each
// one is short and stands alone. A new command is one row in a table.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace pipeline {

struct Subcommand {
  const char* name;
  const char* help;  // one line for the command list
  int (*run)(const Args& args);
  bool listed = true;  // false: internal (e.g. `agent __monitor`), not in --help
};

struct CommandGroup {
  const char* program;  // "pipeline fund": how usage and errors name it
  const char* summary;  // what it is, the first line of --help
  std::vector<Subcommand> commands;
  // When the arguments name no subcommand (or none at all), this handles
  // them all: `pipeline demo [--dir D]` next to `pipeline demo agent ...`.
  // Null: a subcommand is required.
  int (*otherwise)(const Args& args) = nullptr;
  const char* footer = nullptr;  // an extra line at the end of --help
};

// Finds the subcommand and runs it with the other arguments. Store flags may
// come before the name (`fund --json check ...`, `task --root R list`): they
// are passed on to the handler, which accepts them anywhere. `--help`, `-h`
// or `help` in place of the name prints the command list (exit 0); no name
// prints it on stderr (exit 2); an unknown name is one line on stderr
// (exit 2). An exception escaping a handler is reported as an internal
// error (exit 1), never a crash.
int Dispatch(const CommandGroup& group, const Args& args);

// "usage: <program> <command> [args...]" and the listed commands.
void PrintCommandList(const CommandGroup& group, FILE* out);

}  // namespace pipeline
