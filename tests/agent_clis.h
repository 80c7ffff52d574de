// The real agent CLIs for tests: scripts/install-agent-clis.sh puts Claude
// Code and Codex into tools/node_modules; a test that needs them installs them
// once per test binary, and when that fails (no npm, registry unreachable)
// fails with the reason rather than skipping. Header-only because every
// tests/*_test.cc links into one binary (inline: one install for all).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "testutil/testutil.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline::testing {

inline std::string ToolsBinDir() { return SourceDir() + "/tools/node_modules/.bin"; }
inline std::string ToolsBin(const std::string& name) { return ToolsBinDir() + "/" + name; }

// Installs the CLIs when missing; returns the failure reason or "".
inline const std::string& EnsureAgentClis() {
  static const std::string reason = [] {
    // Always through the script: it holds a lock while it checks and installs,
    // so a test process never sees another's half-finished install.
    auto r = RunArgv({SourceDir() + "/scripts/install-agent-clis.sh"}, SourceDir(), {}, 600000);
    if (r.ok()) return std::string();
    return "scripts/install-agent-clis.sh failed (exit " + std::to_string(r.exit.exit_code) + "): " + Trim(r.err);
  }();
  return reason;
}

// The JSON objects among the lines of an agent's output.
inline std::vector<nlohmann::json> JsonLines(const std::string& out) {
  std::vector<nlohmann::json> lines;
  for (const std::string& line : Split(out, '\n')) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) lines.push_back(j);
  }
  return lines;
}

}  // namespace pipeline::testing
