// The [sandbox] section of config.toml: whether agent runs are confined,
// which protections a person switched off by name, what an agent may never
// read, and the memory limits. Pure: parsed from a Config, tested without
// starting anything.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "util/status.h"

namespace pipeline {

// The protections, by the names `sandbox.off` takes.
inline constexpr const char* kProtectionFilesystem = "filesystem";  // mounts + Landlock write allow-list
inline constexpr const char* kProtectionProcesses = "processes";    // PID namespace, nothing outlives the run
inline constexpr const char* kProtectionNetwork = "network";        // Landlock TCP connect port rules
inline constexpr const char* kProtectionMemory = "memory";          // cgroup memory limit

struct SandboxSettings {
  bool enabled = true;
  std::set<std::string> off;            // protections switched off by name
  std::vector<std::string> read_deny;   // "~/" is the person's home
  int64_t memory_limit_bytes = 8LL << 30;  // per run, children included; 0: none
  int64_t min_free_bytes = 1LL << 30;      // MemAvailable a start leaves untouched
  bool On(const std::string& protection) const { return enabled && !off.count(protection); }
};

// Credentials and other agents' homes: hidden from every run unless the
// run's own profile names them (profiles.<name>.credentials).
std::vector<std::string> DefaultReadDeny();

// sandbox.enabled, sandbox.off, sandbox.read_deny (replaces the default
// list), sandbox.read_deny_extra (adds to it), sandbox.memory_limit_mb,
// sandbox.min_free_mb. An unknown protection name is an error.
Result<SandboxSettings> LoadSandboxSettings(const Config& config);

// "~" and "~/x" against home; other paths unchanged.
std::string ExpandHome(const std::string& path, const std::string& home);

}  // namespace pipeline
