// What this kernel and machine can enforce, said plainly for `pipeline
// doctor` and at each run's start, and the refusal to start a confined run
// when a protection the config asks for is missing.
#pragma once

#include <string>
#include <vector>

#include "sandbox/memory_limit.h"
#include "sandbox/settings.h"
#include "util/status.h"

namespace pipeline {

struct KernelProtections {
  int landlock_abi = 0;        // 0: none
  std::string bwrap;           // path of bubblewrap; empty: not installed
  bool user_namespaces = false;
  MemoryControl memory = MemoryControl::kNone;
  bool namespaces() const { return !bwrap.empty() && user_namespaces; }
};

// Looks at the running kernel and PATH (no process is started).
KernelProtections ProbeProtections();

// "filesystem: Landlock ABI 7; processes: PID namespace; network: TCP port
// rules; memory: cgroup v1" (a missing one reads "network: none (...)").
std::string DescribeProtections(const KernelProtections& k);

// The protections settings ask for that k cannot give; empty when a run may start.
std::vector<std::string> MissingProtections(const SandboxSettings& s, const KernelProtections& k);
// kUnavailable naming each missing protection and the `sandbox.off` entry that
// would let runs start without it.
Status RequireProtections(const SandboxSettings& s, const KernelProtections& k);

}  // namespace pipeline
