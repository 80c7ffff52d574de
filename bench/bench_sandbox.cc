// What confinement costs at a run's start: from `pipeline agent run` to the
// moment the no-op agent (`date +%s%N`, which prints that moment) runs, for a
// run confined (bubblewrap, PID namespace, private refs, memory cgroup,
// Landlock inner step) and one with `sandbox.enabled = false`, interleaved on
// the same machine, each in its own store with a task worktree as workspace.
//
//   bench_sandbox [N]     (default N = 30)
//
// Target: confinement adds < 10 ms (median). On a machine shared with other
// work, `chrt -f 10 bench_sandbox 21` keeps their CPU out of the figure.
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
#include "util/text.h"

using namespace pipeline;

using pipeline::bench::Median;
using pipeline::bench::P90;

static int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Store {
  std::string repo, workspace, prompt;
};

static bool Setup(testing::TempDir& dir, const std::string& name, bool confined, Store* s) {
  s->repo = dir / name;
  mkdir(s->repo.c_str(), 0755);
  testing::InitGitRepo(s->repo);
  if (!testing::RunPipeline({"init"}, s->repo).ok()) return false;
  s->workspace = s->repo + "/.pipeline/worktrees/T1";
  if (!testing::RunArgv({"git", "-C", s->repo, "worktree", "add", "-q", "-b", "pipeline/T1", s->workspace}).ok())
    return false;
  testing::WriteTextFile(s->repo + "/.pipeline/config.toml",
                         std::string("[profiles.noop]\ncommand = [\"date\", \"+%s%N\"]\n[agent]\nprofile = \"noop\"\n") +
                             (confined ? "" : "[sandbox]\nenabled = false\n"));
  s->prompt = dir / (name + ".md");
  testing::WriteTextFile(s->prompt, "---\nworkspace: .\n---\nnothing to do\n");
  return true;
}

// Milliseconds from the call to the agent's own clock reading; < 0 on failure.
static double StartLatency(const Store& s, const std::string& id) {
  std::string bin = testing::PipelineBin();
  int64_t t0 = NowNs();
  auto r = testing::RunArgv({bin, "agent", "run", s.prompt, "-n", id, "--workspace", s.workspace}, s.repo);
  if (!r.ok()) {
    fprintf(stderr, "agent run failed: %s\n", r.err.c_str());
    return -1;
  }
  // Wait for the agent's output without starting processes: an `agent
  // status` is a process start (5-10 ms of CPU on this machine), and polling
  // with it every 5 ms took CPU from the very start being measured, more of
  // it from the longer (confined) one.
  std::string out_log = s.repo + "/.pipeline/runs/" + id + "/stdout.log";
  for (int k = 0; k < 5000; ++k) {
    struct stat st;
    if (stat(out_log.c_str(), &st) == 0 && st.st_size > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (int k = 0; k < 1000; ++k) {
    auto st = testing::RunArgv({bin, "agent", "status", id, "--json"}, s.repo);
    if (st.out.find("\"status\":\"running\"") == std::string::npos) {
      if (st.out.find("\"status\":\"done\"") == std::string::npos) {
        fprintf(stderr, "%s: %s\n", id.c_str(), st.out.c_str());
        return -1;
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::string out = Trim(testing::RunArgv({bin, "agent", "logs", id}, s.repo).out);
  int64_t t1 = std::atoll(out.c_str());
  return t1 > t0 ? static_cast<double>(t1 - t0) / 1e6 : -1;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? std::max(1, atoi(argv[1])) : 30;
  testing::TempDir dir;
  Store confined, open;
  if (!Setup(dir, "confined", true, &confined) || !Setup(dir, "open", false, &open)) {
    fprintf(stderr, "set-up failed\n");
    return 1;
  }
  std::vector<double> c, o;
  for (int i = 0; i < n; ++i) {
    double a = StartLatency(open, "run-" + std::to_string(i));
    double b = StartLatency(confined, "run-" + std::to_string(i));
    if (a < 0 || b < 0) return 1;
    o.push_back(a);
    c.push_back(b);
  }
  printf("N = %d\n", n);
  printf("%-44s %10s %10s\n", "agent run -> no-op agent running", "median ms", "p90 ms");
  printf("%-44s %10.2f %10.2f\n", "unconfined (sandbox.enabled = false)", Median(o), P90(o));
  printf("%-44s %10.2f %10.2f\n", "confined", Median(c), P90(c));
  printf("confinement adds %.2f ms per start (median; target < 10 ms)\n", Median(c) - Median(o));
  return 0;
}
