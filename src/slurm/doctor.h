// `pipeline doctor` with [executor] kind = "slurm": is the cluster there,
// are the configured partitions its own, and can a job write in the shared
// directory (a tiny job that touches a file there, waited for a few
// seconds). One CheckResult per check, each a line a person can act on.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "config/config.h"
#include "sched/preflight.h"
#include "slurm/client.h"
#include "slurm/launcher.h"
#include "store/root.h"
#include "util/clock.h"

namespace pipeline::slurm {

struct ClusterProbe {
  Micros wait = 20'000'000;         // how long the probe job may take to write its file
  Micros poll_every = 200'000;
  std::function<void(Micros)> sleep;  // null: usleep
};

// The checks, against a client and the executor's options.
std::vector<CheckResult> CheckCluster(Client& client, const ExecutorOptions& options, const std::string& slurm_conf,
                                      Clock& clock, const ClusterProbe& probe = {});

// From the config: nothing when the executor is local; a problem line when
// the executor section is wrong; else CheckCluster on the real commands.
std::vector<CheckResult> ClusterDoctorChecks(const Config& config, const RootPaths& paths, const std::string& self_exe);

}  // namespace pipeline::slurm
