// The inner step of a confined run: `pipeline agent __sandbox-exec RULES --
// AGENT...`, started by bwrap inside the new namespaces (after the mounts,
// which a Landlock-restricted process could no longer make). It applies
// Landlock and resource limits to itself and execs the agent.
#pragma once

#include <string>
#include <vector>

namespace pipeline {

// RULES: --rw PATH, --create PATH, --restrict-connect, --port N, --no-fs,
// --rlimit-as BYTES, --wait-fd N (first read one 'g' from descriptor N, the
// monitor's go). Returns only on failure (exit code 127, one line on stderr).
int SandboxExecMain(const std::vector<std::string>& args);

}  // namespace pipeline
