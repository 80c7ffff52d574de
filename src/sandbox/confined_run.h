// The monitor's side of a confined run: prepares the run's private
// directory, git confinement, memory cgroup and run channel, starts the agent
// inside bubblewrap + the Landlock inner step, and after the agent's end
// carries the task branch back and cleans up. Nothing here is in the
// scheduler: a confined local launch is today's monitor plus this spawn.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proc/process.h"
#include "sandbox/git_confine.h"
#include "sandbox/memory_limit.h"
#include "sandbox/policy.h"
#include "sandbox/protections.h"
#include "sandbox/run_channel.h"
#include "sandbox/settings.h"

namespace pipeline {

struct ConfinedRunInputs {
  std::string run_id, workspace, store_root, prompt_file, self_exe;
  std::vector<std::string> credentials;  // the profile's, "~" allowed
  std::vector<std::string> pass_env;     // names passed from the monitor's environment
  std::optional<std::vector<int>> connect_ports;
  std::map<std::string, std::string> env;  // the profile's env and the run's variables
  SandboxSettings settings;
  // The run's cgroup, started early by the monitor (memory_limit.h); null:
  // made here.
  EarlyCgroup* early_cgroup = nullptr;
};

class ConfinedRun {
 public:
  // Fails (nothing started) when a protection the settings ask for is missing
  // or the run's private directory cannot be made.
  static Result<std::unique_ptr<ConfinedRun>> Prepare(const ConfinedRunInputs& in, const KernelProtections& kernel);
  ~ConfinedRun();

  // Starts opts.argv confined: argv wrapped, environment from the allow-list,
  // started inside the run's memory cgroup. The inner step waits for the
  // monitor's go, sent once the rest of the preparation is done; on a
  // failure there, the sandbox is killed before any of the agent runs.
  Result<SpawnedProcess> Spawn(SpawnOptions opts);
  RunChannelServer& channel() { return channel_; }
  bool MemoryLimitHit() const { return cgroup_ && cgroup_->LimitHit(); }
  // After the agent's end: the task branch back, the cgroup and private
  // files removed, and an empty private directory left for the next start
  // to take (private_dir.h).
  Status Finish();
  const SandboxPolicy& policy() const { return policy_; }
  // HEAD's commit as the preparation read it (git_confine.h: HeadCommitBefore);
  // nullopt: not known without git.
  std::optional<std::string> HeadBefore() const { return git_ ? HeadCommitBefore(*git_) : std::nullopt; }

 private:
  // The descriptor the inner step waits on for the go (policy.h: start_gate_fd).
  static constexpr int kStartGateFd = 3;
  ConfinedRun() = default;
  // What the agent needs but bubblewrap does not: the copy of the branches
  // and the listening run channel. Done while bubblewrap starts.
  Status FinishPreparation();
  ConfinedRunInputs in_;
  std::string private_dir_, bwrap_;
  std::optional<GitConfinement> git_;
  std::optional<MemoryCgroup> cgroup_;
  EarlyCgroup* early_cgroup_ = nullptr;  // the monitor's, until Spawn takes it into cgroup_
  SandboxPolicy policy_;
  RunChannelServer channel_;
  bool finished_ = false;
  bool inside_cgroup_ = false;  // the monitor itself is in the run's cgroup (until the spawn)
};

// <store_root>/sandbox/<run_id>: the run's home, tmp, socket and ref copies.
std::string RunPrivateDir(const std::string& store_root, const std::string& run_id);

}  // namespace pipeline
