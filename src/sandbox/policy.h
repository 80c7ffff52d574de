// The confinement of one run, decided before anything starts: what the
// sandbox shows (mounts), what the agent may write (Landlock), where it may
// connect, what its environment holds. Pure data in, argv out: the policy
// builder is tested without a kernel.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/git_confine.h"
#include "sandbox/settings.h"

namespace pipeline {

struct PolicyInputs {
  std::string workspace;    // absolute
  std::string store_root;   // the .pipeline directory: hidden, except what is bound back below
  std::string private_dir;  // this run's own: home/, tmp/, run.sock, git-heads/
  std::string prompt_file;  // read-only inside (may be empty)
  std::string person_home;  // for "~" in read_deny and credentials
  std::optional<std::string> profile_home;  // HOME from the profile's env (writable)
  std::vector<std::string> credentials;     // the profile's own: stay readable ("~" allowed)
  std::vector<std::string> extra_writable;  // e.g. a profile's CODEX_HOME
  std::optional<std::vector<int>> connect_ports;  // nullopt: TCP not restricted
  std::optional<GitConfinement> git;
  SandboxSettings settings;
  std::string bwrap = "bwrap";
  std::string self_exe;  // the pipeline binary: runs the inner step
  // Only paths that exist are mounted; the seam lets tests decide.
  bool (*exists)(const std::string&) = nullptr;
  bool (*is_dir)(const std::string&) = nullptr;
};

struct SandboxPolicy {
  std::vector<std::string> bwrap_args;   // mounts and namespaces, without the program
  std::vector<std::string> writable;     // Landlock write allow-list (inside paths)
  std::vector<std::string> create_only;  // Landlock create-only (git objects)
  std::optional<std::vector<int>> connect_ports;
  bool landlock_fs = true;
  std::optional<int64_t> rlimit_as;  // memory limit per process, when no cgroup can hold the run
  // The descriptor the inner step waits on for the monitor's go before it
  // applies Landlock and starts the agent (confined_run.h); < 0: no wait.
  int start_gate_fd = -1;
  std::string home, tmp, socket_path;
  // pipeline-sandbox-exec when installed beside pipeline (faster to start);
  // empty: `self_exe agent __sandbox-exec`.
  std::string inner_exe;
  // The whole command: bwrap ARGS -- INNER RULES -- agent_argv.
  std::vector<std::string> Wrap(const std::vector<std::string>& agent_argv, const std::string& self_exe,
                                const std::string& bwrap) const;
};

SandboxPolicy BuildPolicy(const PolicyInputs& in);

// The environment a confined agent gets, from an allow-list: locale, TERM,
// PATH, TZ, USER, the names the profile passes through (its credentials),
// then `set` (the profile's env and the run's own variables) on top. HOME and
// TMPDIR are the run's own.
std::map<std::string, std::string> AllowedEnvironment(const std::map<std::string, std::string>& inherited,
                                                      const std::vector<std::string>& pass_names,
                                                      const std::map<std::string, std::string>& set,
                                                      const SandboxPolicy& policy);

// Ports named in the env's *_BASE_URL values (http://h:8080 -> 8080, https -> 443):
// a profile pointed at a model server can reach it without naming it twice.
std::vector<int> PortsOfBaseUrls(const std::map<std::string, std::string>& env);

}  // namespace pipeline
