// Helpers every command shares: CLI11 parsing with one-line errors, JSON on
// stdout, errors on stderr.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "sched/scheduler_options.h"
#include "store/root.h"
#include "util/status.h"

namespace pipeline {

// Parses args (not including the program or subcommand name). Returns
// std::nullopt when parsing succeeded and the command should go on; else the
// exit code to return (0 after --help, 2 after a usage error, which is
// printed as one line on stderr).
std::optional<int> ParseArgs(CLI::App& app, const std::vector<std::string>& args);

// Prints "pipeline: <message>" (one line) on stderr; returns the exit code for its kind.
int Fail(const Error& e);
int Fail(const Status& s);
// Usage error (exit 2).
int UsageError(const std::string& message);

// One JSON document and a newline on stdout.
void PrintJson(const nlohmann::json& j);

// The value of PIPELINE_ROOT-style flags shared by store commands.
struct StoreFlags {
  std::optional<std::string> root;
  bool json = false;
};
void AddStoreFlags(CLI::App& app, StoreFlags* flags);

// What the scheduler's commands (run, status) start from: the root found from
// --root (or $PIPELINE_ROOT / the cwd), checked to hold a store, its config,
// and the scheduler options the config gives.
struct SchedulerSetup {
  RootPaths paths;
  Config config;
  SchedulerOptions options;
};
Result<SchedulerSetup> LoadSchedulerSetup(const std::optional<std::string>& root_flag);

}  // namespace pipeline
