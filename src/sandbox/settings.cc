#include "sandbox/settings.h"

namespace pipeline {

std::vector<std::string> DefaultReadDeny() {
  return {"~/.ssh",        "~/.aws",          "~/.config/gh",    "~/.netrc",       "~/.git-credentials",
          "~/.gnupg",      "~/.docker",       "~/.kube",         "~/.config/gcloud", "~/.azure",
          "~/.claude",     "~/.claude.json",  "~/.codex",        "~/.config/claude", "~/.gemini",
          "/run/docker.sock", "/var/run/docker.sock"};
}

std::string ExpandHome(const std::string& path, const std::string& home) {
  if (path == "~") return home;
  if (path.rfind("~/", 0) == 0) return home + path.substr(1);
  return path;
}

Result<SandboxSettings> LoadSandboxSettings(const Config& config) {
  SandboxSettings s;
  PL_ASSIGN_OR_RETURN(s.enabled, config.BoolOr("sandbox.enabled", true));
  PL_ASSIGN_OR_RETURN(auto off, config.StringArray("sandbox.off"));
  for (const auto& name : off.value_or(std::vector<std::string>{})) {
    if (name != kProtectionFilesystem && name != kProtectionProcesses && name != kProtectionNetwork &&
        name != kProtectionMemory)
      return InvalidArgument(config.origin() + ": sandbox.off: unknown protection \"" + name +
                             "\" (filesystem, processes, network, memory)");
    s.off.insert(name);
  }
  PL_ASSIGN_OR_RETURN(auto deny, config.StringArray("sandbox.read_deny"));
  s.read_deny = deny ? *deny : DefaultReadDeny();
  PL_ASSIGN_OR_RETURN(auto extra, config.StringArray("sandbox.read_deny_extra"));
  if (extra) s.read_deny.insert(s.read_deny.end(), extra->begin(), extra->end());
  for (const auto& p : s.read_deny)
    if (p.empty() || (p[0] != '/' && p[0] != '~'))
      return InvalidArgument(config.origin() + ": sandbox.read_deny: \"" + p + "\" must be absolute or start with ~");
  PL_ASSIGN_OR_RETURN(int64_t mem_mb, config.IntOr("sandbox.memory_limit_mb", s.memory_limit_bytes >> 20));
  PL_ASSIGN_OR_RETURN(int64_t free_mb, config.IntOr("sandbox.min_free_mb", s.min_free_bytes >> 20));
  if (mem_mb < 0 || free_mb < 0)
    return InvalidArgument(config.origin() + ": sandbox.memory_limit_mb and sandbox.min_free_mb must be >= 0");
  s.memory_limit_bytes = mem_mb << 20;
  s.min_free_bytes = free_mb << 20;
  return s;
}

}  // namespace pipeline
