// Slurm executor benchmark, side by side in one run on the one-node test
// cluster (scripts/slurm-cluster.sh; started here if it is not up):
//  1. N no-op dev runs through `pipeline run --until-idle` with
//     [executor] kind = "slurm" (one task per domain, P slots, after_run =
//     "review" so the merge queue is not part of it);
//  2. the same N no-op commands as bare `sbatch --wrap true` jobs, waited
//     for with squeue;
//  and the ratio; plus the hand-over: from a job's end (its result written)
//  to the next run's submission, p50 / p99.
// Usage: bench_slurm [N=100] [P=16]
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <vector>

#include "store/root.h"
#include "tasks/task_store.h"
#include "util/files.h"
#include "testutil/testutil.h"
#include "util/clock.h"

using namespace pipeline;
using pipeline::testing::PipelineBin;
using pipeline::testing::RunArgv;
using pipeline::testing::RunPipeline;
using pipeline::testing::SourceDir;
using pipeline::testing::TempDir;
using pipeline::testing::WriteTextFile;

namespace {

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100;
  int p = argc > 2 ? atoi(argv[2]) : 16;
  std::string bin = PipelineBin();
  std::string cluster = bin.substr(0, bin.rfind("/bin/")) + "/slurm-cluster";
  auto up = RunArgv({SourceDir() + "/scripts/slurm-cluster.sh", "start", cluster}, "", {}, 120000);
  if (!up.ok()) {
    fprintf(stderr, "the Slurm cluster did not start: %s\n", up.err.c_str());
    return 1;
  }
  std::string conf = cluster + "/slurm.conf";
  std::map<std::string, std::string> env = {{"SLURM_CONF", conf}};

  // 1. pipeline on Slurm.
  TempDir dir;
  RootPaths paths{dir.path() + "/.pipeline"};
  if (!RunPipeline({"init", "--root", paths.root}, dir.path()).ok()) return 1;
  WriteTextFile(paths.config(),
                fmt::format("[fund]\ndefault_budget_cents = 1000000000\n"
                            "[scheduler]\nmax_active = {}\nreserve_cents = 1\nafter_run = \"review\"\n"
                            "workspace = \"shared\"\nbackoff_base_s = 0\n[agent]\nprofile = \"noop\"\n"
                            "[profiles.noop]\ncommand = [\"true\"]\nreader = \"command\"\n"
                            "[executor]\nkind = \"slurm\"\n[executor.slurm]\nslurm_conf = \"{}\"\npoll_ms = 50\n",
                            p, conf));
  {
    auto db = OpenStore(paths);
    TaskStore store(**db, SystemClock());
    for (int i = 0; i < n; ++i) {
      NewTask t;
      t.title = fmt::format("noop {}", i);
      t.ns = fmt::format("d{}", i);
      if (!store.Create(t).ok()) return 1;
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  auto run = RunPipeline({"run", "--until-idle", "--quiet"}, dir.path(), {}, 600000);
  auto t1 = std::chrono::steady_clock::now();
  if (!run.ok()) {
    fprintf(stderr, "pipeline run failed: %s\n", run.err.c_str());
    return 1;
  }
  double ours = Seconds(t0, t1);
  std::vector<std::pair<Micros, Micros>> runs;  // created_at, ended_at
  {
    auto db = OpenStore(paths);
    auto s = (*db)->Prepare("SELECT created_at, ended_at FROM runs WHERE phase = 'dev' ORDER BY created_at");
    while (*s->Step()) runs.push_back({s->Int(0), s->Int(1)});
  }
  // Hand-over: a run started after the first p waits for a slot; its wait
  // is from the latest end before its creation.
  std::vector<double> handover;
  std::vector<Micros> ends;
  for (const auto& r : runs) ends.push_back(r.second);
  std::sort(ends.begin(), ends.end());
  for (size_t i = static_cast<size_t>(p); i < runs.size(); ++i) {
    auto it = std::upper_bound(ends.begin(), ends.end(), runs[i].first);
    if (it == ends.begin()) continue;
    handover.push_back((runs[i].first - *(it - 1)) / 1000.0);
  }

  // 2. bare sbatch.
  TempDir bare;
  auto b0 = std::chrono::steady_clock::now();
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    auto r = RunArgv({"sbatch", "--parsable", "--job-name=bench-bare", "--output=/dev/null", "--chdir=" + bare.path(),
                      "--wrap", "true"},
                     "", env);
    if (!r.ok()) {
      fprintf(stderr, "sbatch failed: %s\n", r.err.c_str());
      return 1;
    }
    ids.push_back(r.out.substr(0, r.out.find_first_of(";\n")));
  }
  for (;;) {
    auto q = RunArgv({"squeue", "-h", "-n", "bench-bare", "-o", "%i"}, "", env);
    if (q.ok() && q.out.find_first_not_of(" \n") == std::string::npos) break;
    usleep(50'000);
  }
  auto b1 = std::chrono::steady_clock::now();
  double bare_s = Seconds(b0, b1);

  printf("| what | figure |\n|---|---|\n");
  // The machine's load decides these figures more than anything here does:
  // each run waits for CPU at every step, the bare jobs barely use any.
  if (auto load = ReadFile("/proc/loadavg"); load.ok())
    printf("| load average at the end (1 / 5 / 15 min) | %s |\n", load->substr(0, load->find(' ', load->find(' ', load->find(' ') + 1) + 1)).c_str());
  printf("| %d no-op runs, pipeline on Slurm (%d slots) | %.2f s (%.1f runs/s) |\n", n, p, ours, n / ours);
  printf("| %d bare `sbatch --wrap true` jobs | %.2f s (%.1f jobs/s) |\n", n, bare_s, n / bare_s);
  printf("| ratio pipeline / bare | %.2f x |\n", ours / bare_s);
  printf("| hand-over: job end to next submission, p50 / p99 (%zu samples) | %.0f ms / %.0f ms |\n",
         handover.size(), Percentile(handover, 0.5), Percentile(handover, 0.99));
  return 0;
}
