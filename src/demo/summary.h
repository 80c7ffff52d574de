// The demo's closing report, read from the store and the repository rather
// than from what the demo believes happened: tasks by status, every run,
// cost per domain against its budget, the base branch's log. As JSON (for
// tests and `--json-summary`) and as text for a person.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "proc/process.h"
#include "store/db.h"
#include "util/status.h"

namespace pipeline::demo {

// What only the demo's driver knows.
struct DemoFacts {
  std::string dir;                               // the sample project
  std::string base = "main";
  std::string agent;                             // "claude-code" or "command"
  std::map<std::string, std::string> key_of_task;  // task id -> demo script key
  std::vector<std::string> interventions;        // what the demo did as a person, in order
  double wall_seconds = 0;
  bool timed_out = false;
};

Result<nlohmann::json> CollectDemoSummary(Db& db, ProcessRunner& runner, const DemoFacts& facts);
std::string FormatDemoSummary(const nlohmann::json& summary);

}  // namespace pipeline::demo
