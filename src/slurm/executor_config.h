// The [executor] section of .pipeline/config.toml:
//
//   [executor]
//   kind = "slurm"                 # default "local": a monitor process per run on this host
//   [executor.slurm]
//   shared_dir = "/shared/pipeline" # reachable from every node; default .pipeline/cluster
//   partition = "agents"           # dev runs; default: the cluster's default partition
//   check_partition = "checks"     # verify runs; default: partition
//   account = "team-a"
//   time_limit_minutes = 60        # per job; Slurm's minimum is 1
//   cpus = 2                       # --cpus-per-task
//   mem_mb = 4096                  # --mem
//   slurm_conf = "/etc/slurm/slurm.conf"  # SLURM_CONF for every Slurm command
//   poll_ms = 500                  # how often result files are looked for (squeue: at most once a second)
//   [executor.slurm.domains."D"]   # partition, check_partition, account, time_limit_minutes, cpus, mem_mb
//   [executor.slurm.profiles.P]    # the same but check_partition, for dev runs with profile P
//                                  # (a profile's setting wins over its domain's, which wins over the above)
#pragma once

#include <optional>
#include <string>

#include "config/config.h"
#include "slurm/launcher.h"
#include "store/root.h"

namespace pipeline::slurm {

struct SlurmExecutor {
  ExecutorOptions options;
  std::string slurm_conf;
};

// nullopt for the local executor. kInvalidArgument, naming the key, for a
// kind other than "local"/"slurm", a name Slurm would not take, or a limit
// below 1.
Result<std::optional<SlurmExecutor>> SlurmExecutorFromConfig(const Config& config, const RootPaths& paths,
                                                             const std::string& self_exe);

}  // namespace pipeline::slurm
