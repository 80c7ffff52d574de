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

// What a person switched off, for `pipeline status` and the start of
// `pipeline run`: "" when runs get every protection; "sandbox off: network,
// memory (sandbox.off)"; "sandbox off: runs are not confined
// (sandbox.enabled = false)".
std::string OffLine(const SandboxSettings& s);
// The protections switched off by name, in the order of kProtection*; every
// one of them when the sandbox is disabled.
std::vector<std::string> OffProtections(const SandboxSettings& s);

// The probe, once per process: a scheduler asks it for every start, and the
// kernel does not change under a running process.
const KernelProtections& CachedProtections();

}  // namespace pipeline
