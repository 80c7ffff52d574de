// `task ready` over a large backlog: 100,000 tasks, 20 % open, half of them
// with a dependency. Times the in-process TaskStore::Ready() and the whole
// `pipeline task ready --json` process (spawn to exit), median of 7 runs.
// Usage: bench_task_ready [TASKS]
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "store/root.h"
#include "tasks/task_store.h"
#include "testutil/testutil.h"

using namespace pipeline;

namespace {

double NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Status Fill(Db& db, int n) {
  return db.Write([&]() -> Status {
    std::mt19937 rng(1);
    const char* kOther[] = {"done", "done", "done", "review", "in-progress"};
    for (int i = 1; i <= n; ++i) {
      std::string id = "t-" + std::to_string(i);
      const char* status = (i % 5 == 0) ? "open" : kOther[rng() % 5];
      PL_RETURN_IF_ERROR(db.Cached("INSERT INTO tasks (id, seq, title, namespace, status, priority, description, "
                                   "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
                             .BindAll(id, static_cast<int64_t>(i), "Task number " + std::to_string(i),
                                      "Omni/Area" + std::to_string(i % 50) + ".hs", status,
                                      static_cast<int64_t>(rng() % 5), "Some description of the work to do.",
                                      int64_t{1'790'000'000'000'000} + i, int64_t{1'790'000'000'000'000} + i)
                             .Run());
      if (i > 1 && rng() % 2 == 0) {
        std::string dep = "t-" + std::to_string(1 + rng() % (i - 1));
        PL_RETURN_IF_ERROR(
            db.Cached("INSERT OR IGNORE INTO task_deps (task_id, depends_on) VALUES (?, ?)").BindAll(id, dep).Run());
      }
    }
    return db.Cached("UPDATE meta SET value = ? WHERE key = 'next_task_seq'").BindAll(std::to_string(n + 1)).Run();
  });
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100000;
  testing::TempDir dir;
  RootPaths paths{dir / ".pipeline"};
  auto db = CreateStore(paths);
  if (!db.ok()) {
    fprintf(stderr, "%s\n", db.message().c_str());
    return 1;
  }
  double t0 = NowMs();
  if (Status s = Fill(**db, n); !s.ok()) {
    fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  printf("filled %d tasks in %.0f ms\n", n, NowMs() - t0);

  TaskStore store(**db, SystemClock());
  std::vector<double> in_proc;
  size_t ready = 0;
  for (int i = 0; i < 7; ++i) {
    double a = NowMs();
    auto r = store.Ready();
    in_proc.push_back(NowMs() - a);
    if (!r.ok()) return 1;
    ready = r->size();
  }
  std::vector<double> whole;
  size_t bytes = 0;
  for (int i = 0; i < 7; ++i) {
    double a = NowMs();
    auto r = testing::RunArgv({testing::PipelineBin(), "task", "ready", "--root", paths.root, "--json"});
    whole.push_back(NowMs() - a);
    if (r.exit.exit_code != 0) {
      fprintf(stderr, "task ready failed: %s\n", r.err.c_str());
      return 1;
    }
    bytes = r.out.size();
  }
  std::vector<double> baseline;  // process start cost alone, for scale
  for (int i = 0; i < 7; ++i) {
    double a = NowMs();
    testing::RunArgv({"/bin/true"});
    baseline.push_back(NowMs() - a);
  }
  printf("%-44s %10s\n", "what", "median ms");
  printf("%-44s %10.1f\n", "TaskStore::Ready() in process", Median(in_proc));
  printf("%-44s %10.1f\n", "`pipeline task ready --json` whole process", Median(whole));
  printf("%-44s %10.1f\n", "/bin/true spawn + wait (baseline)", Median(baseline));
  printf("ready tasks: %zu, JSON output: %zu bytes\n", ready, bytes);
  return 0;
}
