// pipeline-sandbox-exec: the inner step of a confined run (sandbox/sandbox_exec.h)
// as a small program of its own, so a run's start does not pay for loading
// the whole pipeline binary a second time. `pipeline agent __sandbox-exec`
// does the same when this program is not installed beside pipeline.
#include <string>
#include <vector>

#include "sandbox/sandbox_exec.h"

int main(int argc, char** argv) {
  return pipeline::SandboxExecMain(std::vector<std::string>(argv + 1, argv + argc));
}
