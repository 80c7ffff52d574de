// What supervision costs: the time from `pipeline agent run` (the whole CLI
// process) to its return for a no-op agent (`true`), side by side with a bare
// posix_spawn + wait of /bin/true, in the same run on the same machine.
//
//   bench_agent_spawn [N]     (default N = 50)
//
// Prints medians and the ratio. The `agent run` figure includes the CLI's own
// start, opening the store, inserting the row, spawning the monitor, the
// monitor's git rev-parse and the agent's spawn: everything a caller waits for.
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "bench_stats.h"
#include "proc/process.h"
#include "testutil/testutil.h"

using namespace pipeline;
using Clock = std::chrono::steady_clock;

static double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

using pipeline::bench::Median;
using pipeline::bench::P90;

static bool RunOk(const std::vector<std::string>& argv, const std::string& cwd) {
  SpawnOptions o;
  o.argv = argv;
  o.cwd = cwd;
  auto p = Spawn(o);
  if (!p.ok()) return false;
  int status = 0;
  waitpid(p->pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? std::max(1, atoi(argv[1])) : 50;
  testing::TempDir dir;
  std::string repo = dir / "repo";
  mkdir(repo.c_str(), 0755);
  testing::InitGitRepo(repo);
  std::string bin = testing::PipelineBin();
  if (!RunOk({bin, "init"}, repo)) {
    fprintf(stderr, "pipeline init failed\n");
    return 1;
  }
  testing::WriteTextFile(repo + "/.pipeline/config.toml",
                         "[profiles.noop]\ncommand = [\"/bin/true\"]\n[agent]\nprofile = \"noop\"\n");
  testing::WriteTextFile(dir / "p.md", "---\nworkspace: .\n---\nnothing to do\n");

  std::vector<double> bare, run;
  for (int i = 0; i < n; ++i) {
    // Interleaved, so both see the same machine state.
    auto t0 = Clock::now();
    if (!RunOk({"/bin/true"}, "")) return 1;
    bare.push_back(Ms(Clock::now() - t0));

    t0 = Clock::now();
    if (!RunOk({bin, "agent", "run", dir / "p.md", "-n", "noop-" + std::to_string(i)}, repo)) {
      fprintf(stderr, "agent run failed\n");
      return 1;
    }
    run.push_back(Ms(Clock::now() - t0));
  }
  // Every run must really have ended done (the monitor finished its work).
  for (int i = 0; i < n; ++i) {
    std::string id = "noop-" + std::to_string(i);
    for (int k = 0; k < 500; ++k) {
      auto r = testing::RunArgv({bin, "agent", "status", id, "--json"}, repo);
      if (r.out.find("\"status\":\"running\"") == std::string::npos) {
        if (r.out.find("\"status\":\"done\"") == std::string::npos) fprintf(stderr, "%s: %s\n", id.c_str(), r.out.c_str());
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  printf("N = %d\n", n);
  printf("%-44s %10s %10s\n", "", "median ms", "p90 ms");
  printf("%-44s %10.2f %10.2f\n", "posix_spawn + wait of /bin/true", Median(bare), P90(bare));
  printf("%-44s %10.2f %10.2f\n", "pipeline agent run (no-op agent), to return", Median(run), P90(run));
  printf("ratio (agent run / bare spawn): %.1fx; supervision adds %.2f ms per run (median)\n",
         Median(run) / std::max(1e-9, Median(bare)), Median(run) - Median(bare));
  return 0;
}
