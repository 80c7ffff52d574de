// Turning a run row into the exact process to start: argv (from the profile
// template or the run's explicit argv), environment, working directory,
// reader and limits. Pure apart from reading the prompt file, so it is
// tested without starting anything.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/run_record.h"
#include "config/config.h"
#include "store/root.h"

namespace pipeline {

struct LaunchPlan {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // added to the monitor's environment
  std::string cwd;
  std::string profile;
  std::string reader;
  std::optional<std::string> model;
  int64_t timeout_s = 0;  // 0: none
  std::optional<int64_t> max_iter, max_cost_cents;
  uint64_t log_cap_bytes = 8u << 20;
  int64_t kill_grace_ms = 3000;
  // Confinement inputs from the profile (see agent/profile.h, docs/security.md).
  std::vector<std::string> credentials, pass_env;
  std::optional<std::vector<int>> net_ports;  // plus the ports of the env's *_BASE_URLs; nullopt: any
};

// self_exe: the running pipeline binary, whose directory is put first on the
// agent's PATH (so `pipeline task comment` works from inside the agent).
// Limits not set on the run come from config (agent.timeout_s 1800,
// agent.max_iter 80; 0 means none).
Result<LaunchPlan> PlanLaunch(const RootPaths& paths, const Config& config, const RunRecord& run,
                              const std::string& self_exe);

}  // namespace pipeline
