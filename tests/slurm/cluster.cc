#include "slurm/cluster.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "testutil/testutil.h"

namespace pipeline::testing {

std::string SlurmClusterDir() {
  if (const char* d = std::getenv("PIPELINE_SLURM_DIR"); d && *d) return d;
  std::string bin = PipelineBin();  // <build>/bin/pipeline
  std::string build = bin.substr(0, bin.rfind("/bin/"));
  return build + "/slurm-cluster";
}

std::string EnsureSlurmCluster() {
  std::string dir = SlurmClusterDir();
  auto r = RunArgv({SourceDir() + "/scripts/slurm-cluster.sh", "start", dir}, "", {}, 120'000);
  EXPECT_TRUE(r.ok()) << "the Slurm test cluster could not start: " << r.err << r.out;
  return dir + "/slurm.conf";
}

}  // namespace pipeline::testing
