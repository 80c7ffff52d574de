#include "sandbox/protections.h"

#include <unistd.h>

#include <cstdlib>

#include "sandbox/landlock.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline {
namespace {

std::string FindOnPath(const std::string& name) {
  const char* path = getenv("PATH");
  for (const auto& dir : Split(path && *path ? path : "/usr/local/bin:/usr/bin:/bin", ':')) {
    if (dir.empty()) continue;
    std::string p = dir + "/" + name;
    if (access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

bool UserNamespacesAllowed() {
  if (geteuid() == 0) return true;  // root needs none: bwrap makes the namespaces directly
  auto max = ReadFile("/proc/sys/user/max_user_namespaces");
  if (max.ok() && std::atoll(Trim(*max).c_str()) == 0) return false;
  auto clone = ReadFile("/proc/sys/kernel/unprivileged_userns_clone");
  if (clone.ok() && Trim(*clone) == "0") return false;
  auto apparmor = ReadFile("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  if (apparmor.ok() && Trim(*apparmor) == "1") return false;
  return true;
}

}  // namespace

KernelProtections ProbeProtections() {
  KernelProtections k;
  k.landlock_abi = LandlockAbi();
  k.bwrap = FindOnPath("bwrap");
  k.user_namespaces = UserNamespacesAllowed();
  k.memory = ProbeMemoryControl();
  return k;
}

std::string DescribeProtections(const KernelProtections& k) {
  std::string fs = k.landlock_abi > 0 && k.namespaces() ? "Landlock ABI " + std::to_string(k.landlock_abi)
                   : k.landlock_abi > 0                  ? "none (no bubblewrap or user namespaces)"
                                                         : "none (no Landlock)";
  std::string procs = k.namespaces() ? "PID namespace" : "none (no bubblewrap or user namespaces)";
  std::string net = k.landlock_abi >= 4 ? "TCP port rules" : "none (Landlock ABI < 4)";
  std::string mem = k.memory != MemoryControl::kNone ? MemoryControlName(k.memory)
                                                     : "per-process address-space limit (no writable cgroup)";
  return "filesystem: " + fs + "; processes: " + procs + "; network: " + net + "; memory: " + mem;
}

std::vector<std::string> MissingProtections(const SandboxSettings& s, const KernelProtections& k) {
  std::vector<std::string> missing;
  if (!s.enabled) return missing;
  if (s.On(kProtectionFilesystem) && (k.landlock_abi < 1 || !k.namespaces())) missing.push_back(kProtectionFilesystem);
  if (s.On(kProtectionProcesses) && !k.namespaces()) missing.push_back(kProtectionProcesses);
  if (s.On(kProtectionNetwork) && k.landlock_abi < 4) missing.push_back(kProtectionNetwork);
  // Memory is approximated (RLIMIT_AS per process) without a cgroup, never missing.
  return missing;
}

Status RequireProtections(const SandboxSettings& s, const KernelProtections& k) {
  auto missing = MissingProtections(s, k);
  if (missing.empty()) return Status::Ok();
  std::string names;
  for (const auto& m : missing) names += (names.empty() ? "" : "\", \"") + m;
  return Unavailable("sandbox: this machine cannot confine runs (" + DescribeProtections(k) +
                     "); install bubblewrap / enable Landlock, or set sandbox.off = [\"" + names +
                     "\"] in config.toml to run without it");
}

std::vector<std::string> OffProtections(const SandboxSettings& s) {
  std::vector<std::string> off;
  for (const char* p : {kProtectionFilesystem, kProtectionProcesses, kProtectionNetwork, kProtectionMemory})
    if (!s.On(p)) off.push_back(p);
  return off;
}

std::string OffLine(const SandboxSettings& s) {
  if (!s.enabled) return "sandbox off: runs are not confined (sandbox.enabled = false)";
  auto off = OffProtections(s);
  if (off.empty()) return "";
  std::string names;
  for (const auto& p : off) names += (names.empty() ? "" : ", ") + p;
  return "sandbox off: " + names + " (sandbox.off)";
}

const KernelProtections& CachedProtections() {
  static const KernelProtections probed = ProbeProtections();
  return probed;
}

}  // namespace pipeline
