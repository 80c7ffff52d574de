// Scheduler benchmarks, printed as a table (see docs/benchmarks.md,
// "Scheduler"):
//  1. runs per second end to end with no-op agents (`true`), N tasks over D
//     domains, P slots;
//  2. slot hand-over: from one agent's end to the next agent's start in the
//     same slot (one run per domain at a time), p50 / p99;
//  3. one scheduling decision (a dry-run Step: harvest scan + candidate
//     query) with 100,000 tasks (75,000 ready; every 4th waits on a dependency);
//  4. the same N no-op commands through `xargs -P P`, and the ratio.
// Usage: bench_sched [N=1000] [P=8] [D=8]
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <vector>

#include "sched/event_loop.h"
#include "sched/scheduler.h"
#include "store/root.h"
#include "tasks/task_store.h"
#include "testutil/testutil.h"
#include "util/clock.h"
#include "util/files.h"

using namespace pipeline;
using pipeline::testing::PipelineBin;
using pipeline::testing::RunPipeline;
using pipeline::testing::TempDir;
using pipeline::testing::WriteTextFile;

namespace {

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string ConfigText(int p, int d, int domain_max) {
  std::string s = fmt::format(
      "[fund]\ndefault_budget_cents = 1000000000\n"
      "[scheduler]\nmax_active = {}\nreserve_cents = 1\nafter_run = \"review\"\nworkspace = \"shared\"\n"
      "backoff_base_s = 0\n[agent]\nprofile = \"noop\"\n[profiles.noop]\ncommand = [\"true\"]\nreader = \"command\"\n",
      p);
  for (int i = 0; i < d; ++i) s += fmt::format("[domains.\"d{}\"]\nmax_active = {}\n", i, domain_max);
  // BENCH_SCHED_UNCONFINED=1: the same runs without confinement, to see
  // what it costs at this rate.
  if (const char* u = getenv("BENCH_SCHED_UNCONFINED"); u && std::string(u) == "1") s += "[sandbox]\nenabled = false\n";
  return s;
}

// A store with n tasks over d domains; with deps, every 4th task depends on
// the one before it (such a task is ready only once that one is done).
RootPaths MakeStore(const TempDir& dir, int n, int d, const std::string& config, bool deps) {
  RootPaths paths{dir.path() + "/.pipeline"};
  auto init = RunPipeline({"init", "--root", paths.root}, dir.path());
  if (!init.ok()) {
    fprintf(stderr, "init failed: %s\n", init.err.c_str());
    exit(1);
  }
  WriteTextFile(paths.config(), config);
  auto db = OpenStore(paths);
  TaskStore store(**db, SystemClock());
  Status s = (*db)->Write([&]() -> Status {
    std::string prev;
    for (int i = 0; i < n; ++i) {
      NewTask t;
      t.title = "task " + std::to_string(i);
      t.ns = "d" + std::to_string(i % d);
      if (deps && i % 4 == 3 && !prev.empty()) t.deps = {prev};
      PL_ASSIGN_OR_RETURN(Task made, store.Create(t));
      prev = made.id;
    }
    return Status::Ok();
  });
  if (!s.ok()) {
    fprintf(stderr, "tasks: %s\n", s.message().c_str());
    exit(1);
  }
  return paths;
}

double RunAll(const RootPaths& paths, int p, int d, int domain_max) {
  auto db = OpenStore(paths);
  auto config = Config::Load(paths.config());
  auto options = OptionsFromConfig(*config);
  options->max_active = p;
  options->until_idle = true;
  (void)d;
  (void)domain_max;
  SchedulerEnv env;
  env.self_exe = PipelineBin();
  env.default_budget_cents = 1000000000;
  Scheduler sched(*options, **db, paths, SystemClock(), env);
  if (!sched.Recover().ok()) exit(1);
  auto t0 = std::chrono::steady_clock::now();
  LoopOptions lo;
  lo.until_idle = true;
  auto s = RunLoop(sched, **db, paths, lo, nullptr);
  auto t1 = std::chrono::steady_clock::now();
  if (!s.ok()) fprintf(stderr, "loop: %s\n", s.message().c_str());
  return Seconds(t0, t1);
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  int p = argc > 2 ? atoi(argv[2]) : 8;
  int d = argc > 3 ? atoi(argv[3]) : 8;
  fmt::print("bench_sched: N={} tasks, P={} slots, D={} domains, no-op agents (`true`)\n\n", n, p, d);

  // 1 + 2. End to end; one run per domain at a time, P = D slots, so every
  // slot is one domain's sequence and hand-over is measurable per domain.
  TempDir dir1;
  // No dependencies here: with --after-run review no task reaches done, so a
  // dependent task would never become ready.
  RootPaths paths = MakeStore(dir1, n, d, ConfigText(p, d, std::max(1, p / d)), false);
  double sched_s = RunAll(paths, p, d, std::max(1, p / d));
  auto db = OpenStore(paths);
  int64_t done = 0;
  std::vector<double> handover_ms;
  double load = 0;
  if (FILE* f = fopen("/proc/loadavg", "r")) {
    if (fscanf(f, "%lf", &load) != 1) load = 0;
    fclose(f);
  }
  {
    auto s = (*db)->Prepare("SELECT COUNT(*) FROM tasks WHERE status = 'review'");
    (void)s->Step();
    done = s->Int(0);
    auto q = (*db)->Prepare(
        "SELECT domain, started_at, ended_at FROM runs WHERE phase = 'dev' AND started_at IS NOT NULL "
        "ORDER BY domain, started_at");
    std::string last_domain;
    Micros last_end = 0;
    while (*q->Step()) {
      std::string dom = q->Text(0);
      if (dom == last_domain && last_end > 0) handover_ms.push_back(static_cast<double>(q->Int(1) - last_end) / 1000.0);
      last_domain = dom;
      last_end = q->Int(2);
    }
  }

  // 4. xargs -P with the same commands.
  Command x;
  x.argv = {"xargs", "-P", std::to_string(p), "-n", "1", "true"};
  for (int i = 0; i < n; ++i) x.stdin_data += "x\n";
  auto t0 = std::chrono::steady_clock::now();
  auto xr = RealProcessRunner().Run(x);
  double xargs_s = Seconds(t0, std::chrono::steady_clock::now());
  if (!xr.ok() || !xr->ok()) fprintf(stderr, "xargs failed\n");

  // 3. One decision at 100,000 ready tasks.
  constexpr int kBig = 100000;
  TempDir dir2;
  RootPaths big = MakeStore(dir2, kBig, 50, ConfigText(8, 50, 1), true);
  auto bdb = OpenStore(big);
  auto config = Config::Load(big.config());
  auto options = OptionsFromConfig(*config);
  options->dry_run = true;
  SchedulerEnv env;
  env.self_exe = PipelineBin();
  env.default_budget_cents = 1000000000;
  Scheduler sched(*options, **bdb, big, SystemClock(), env);
  (void)sched.Recover();
  std::vector<double> step_ms;
  for (int i = 0; i < 21; ++i) {
    auto a = std::chrono::steady_clock::now();
    auto r = sched.Step();
    step_ms.push_back(Seconds(a, std::chrono::steady_clock::now()) * 1000);
    if (!r.ok()) fprintf(stderr, "step: %s\n", r.message().c_str());
  }

  fmt::print("{:<58} {:>12}\n", "measure", "value");
  fmt::print("{:<58} {:>12}\n", std::string(58, '-'), std::string(12, '-'));
  fmt::print("{:<58} {:>12}\n", "tasks finished (review)", done);
  fmt::print("{:<58} {:>12.1f}\n", "machine load average at the start (1 min)", load);
  fmt::print("{:<58} {:>10.2f} s\n", "scheduler: all runs, end to end", sched_s);
  fmt::print("{:<58} {:>10.0f}/s\n", "scheduler: runs per second", static_cast<double>(n) / sched_s);
  fmt::print("{:<58} {:>10.2f} s\n", fmt::format("xargs -P {}: the same {} no-op commands", p, n), xargs_s);
  fmt::print("{:<58} {:>11.2f}x\n", "ratio scheduler / xargs", sched_s / xargs_s);
  fmt::print("{:<58} {:>9.2f} ms\n", "slot hand-over p50 (agent end -> next agent start)", Percentile(handover_ms, 0.5));
  fmt::print("{:<58} {:>9.2f} ms\n", "slot hand-over p99", Percentile(handover_ms, 0.99));
  fmt::print("{:<58} {:>9.2f} ms\n", "one scheduling decision, 100,000 ready tasks (median)", Percentile(step_ms, 0.5));
  fmt::print("{:<58} {:>9.2f} ms\n", "one scheduling decision, 100,000 ready tasks (max)", Percentile(step_ms, 1.0));
  return 0;
}
