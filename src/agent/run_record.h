// What one agent (or verify) run is: the request (RunSpec) and its row in the
// store (RunRecord). The monitor process writes the row; everyone else reads it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "util/clock.h"
#include "util/status.h"

namespace pipeline {

enum class RunStatus { kStarting, kRunning, kDone, kFailed, kTimeout, kKilled, kOverBudget, kNeedsInput };

// "starting","running","done","failed","timeout","killed","over-budget","needs-input"
const char* RunStatusName(RunStatus s);
std::optional<RunStatus> ParseRunStatus(const std::string& s);
bool IsTerminal(RunStatus s);

// What to run.
struct RunSpec {
  std::string run_id;
  std::optional<std::string> task_id, domain;
  std::string phase = "dev";
  int64_t patchset = 0;
  std::string profile;              // empty: the configured default (agent.profile, else "command")
  std::string prompt_path;          // absolute; may be empty when argv is given
  std::string workspace;            // absolute
  std::vector<std::string> argv;    // non-empty: run exactly this (verify); no prompt
  std::optional<int64_t> timeout_s, max_cost_cents, max_iter;
  std::optional<std::string> model;
  std::map<std::string, std::string> env;  // extra environment
};

// One row of the runs table.
struct RunRecord {
  std::string run_id;
  std::optional<std::string> task_id, domain;
  std::string phase;
  int64_t patchset = 0;
  std::string profile;
  RunStatus status = RunStatus::kStarting;
  std::string workspace, prompt_path;
  pid_t monitor_pid = 0;
  uint64_t monitor_start = 0;
  pid_t agent_pid = 0;  // also the agent's process group
  Micros created_at = 0;
  std::optional<Micros> started_at, ended_at;
  std::optional<int> exit_code, term_signal;
  double cost_cents = 0;
  int64_t turns = 0;
  std::optional<std::string> head_before, head_after, error;
  std::string stdout_path, stderr_path;
  std::optional<Micros> harvested_at;
  // The request as stored (argv, model, extra env), and the limits.
  std::vector<std::string> argv;
  std::optional<std::string> model;
  std::map<std::string, std::string> env;
  std::optional<int64_t> timeout_s, max_cost_cents, max_iter;
  bool kill_requested = false;
};

// The agentd status object. Non-terminal phases report "running" (the seed
// keeps only "running" runs); the precise state is in "state".
nlohmann::json RunToStatusJson(const RunRecord& r);

// A run id reaches a path (.pipeline/runs/ID/), so it is checked here: 1..200
// bytes of valid UTF-8, no '/', no control characters, not "." or "..", not
// starting with '-'.
Status ValidateRunId(const std::string& id);

}  // namespace pipeline
