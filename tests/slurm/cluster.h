// The one-node Slurm cluster the Slurm tests run against: started by the
// CTest fixture `slurm_cluster` (scripts/slurm-cluster.sh start), or by the
// first test when the binary is run by hand; stopped by the fixture's cleanup.
#pragma once

#include <string>

namespace pipeline::testing {

// The cluster's directory (under the build folder; PIPELINE_SLURM_DIR overrides).
std::string SlurmClusterDir();
// SLURM_CONF of a running cluster, starting it when it is not up. Fails the
// calling test with the script's own words when it cannot start.
std::string EnsureSlurmCluster();

}  // namespace pipeline::testing
