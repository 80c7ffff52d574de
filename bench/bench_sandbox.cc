// What confinement costs at a run's start: from `pipeline agent run` to the
// moment the no-op agent (`date +%s%N`, which prints that moment) runs, for a
// run confined (bubblewrap, PID namespace, private refs, memory cgroup,
// Landlock inner step) and one with `sandbox.enabled = false`, interleaved on
// the same machine, each in its own store with a task worktree as workspace.
//
//   bench_sandbox [N] [--baseline PIPELINE] [--poll-with-status]
//
// N (default 30) starts of each kind. --baseline: another build's pipeline
// binary (e.g. of the base branch), measured the same way, interleaved with
// this one. --poll-with-status: wait for the agent by running `agent status`
// every 5 ms (the method before 2026-12-02, which takes CPU from the start
// it measures) instead of stat on its output.
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
  std::string bin, repo, workspace, prompt;
};

static bool poll_with_status = false;

static bool Setup(testing::TempDir& dir, const std::string& bin, const std::string& name, bool confined, Store* s) {
  s->bin = bin;
  s->repo = dir / name;
  mkdir(s->repo.c_str(), 0755);
  testing::InitGitRepo(s->repo);
  if (!testing::RunArgv({bin, "init"}, s->repo).ok()) return false;
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
  const std::string& bin = s.bin;
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
  for (int k = 0; !poll_with_status && k < 5000; ++k) {
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
  int n = 30;
  std::string baseline;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--baseline" && i + 1 < argc) baseline = argv[++i];
    else if (a == "--poll-with-status") poll_with_status = true;
    else if (!a.empty() && a[0] != '-') n = std::max(1, atoi(a.c_str()));
    else {
      fprintf(stderr, "usage: bench_sandbox [N] [--baseline PIPELINE] [--poll-with-status]\n");
      return 2;
    }
  }
  // {name, binary}: this build's first, then the baseline's.
  std::vector<std::pair<std::string, std::string>> builds = {{"this build", testing::PipelineBin()}};
  if (!baseline.empty()) builds.emplace_back("baseline", baseline);
  testing::TempDir dir;
  std::vector<Store> open(builds.size()), confined(builds.size());
  for (size_t b = 0; b < builds.size(); ++b)
    if (!Setup(dir, builds[b].second, "open-" + std::to_string(b), false, &open[b]) ||
        !Setup(dir, builds[b].second, "confined-" + std::to_string(b), true, &confined[b])) {
      fprintf(stderr, "set-up failed\n");
      return 1;
    }
  std::vector<std::vector<double>> o(builds.size()), c(builds.size());
  for (int i = 0; i < n; ++i)
    for (size_t b = 0; b < builds.size(); ++b) {
      double x = StartLatency(open[b], "run-" + std::to_string(i));
      double y = StartLatency(confined[b], "run-" + std::to_string(i));
      if (x < 0 || y < 0) return 1;
      o[b].push_back(x);
      c[b].push_back(y);
    }
  printf("N = %d, waiting for the agent by %s\n", n, poll_with_status ? "`agent status` every 5 ms" : "stat");
  for (size_t b = 0; b < builds.size(); ++b) {
    if (builds.size() > 1) printf("%s (%s)\n", builds[b].first.c_str(), builds[b].second.c_str());
    printf("%-44s %10s %10s\n", "agent run -> no-op agent running", "median ms", "p90 ms");
    printf("%-44s %10.2f %10.2f\n", "unconfined (sandbox.enabled = false)", Median(o[b]), P90(o[b]));
    printf("%-44s %10.2f %10.2f\n", "confined", Median(c[b]), P90(c[b]));
    printf("confinement adds %.2f ms per start (median; target < 10 ms)\n", Median(c[b]) - Median(o[b]));
  }
  return 0;
}
