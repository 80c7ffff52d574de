// Claim + reserve in one transaction, in-process, on a real store file: the
// scheduler's hot path when it starts a run (issue target: >= 5,000/s).
// Side by side: the same claim without the hold, and a bare UPDATE, so the
// ratio shows what the ledger adds.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "ledger/ledger.h"
#include "store/root.h"
#include "tasks/task_store.h"
#include "testutil/testutil.h"

namespace pipeline {
namespace {

struct Fixture {
  testing::TempDir dir;
  RootPaths paths{dir.path() + "/.pipeline"};
  std::unique_ptr<Db> db;
  std::vector<std::string> ids;

  explicit Fixture(int n) {
    db = std::move(CreateStore(paths)).value();
    TaskStore tasks(*db, SystemClock());
    (void)db->Write([&]() -> Status {
      for (int i = 0; i < n; ++i) {
        NewTask t;
        t.title = "task " + std::to_string(i);
        t.ns = "Omni/D" + std::to_string(i % 8) + ".hs";
        auto r = tasks.Create(t);
        if (!r.ok()) return r.error();
        ids.push_back(r->id);
      }
      return Status::Ok();
    });
    Ledger ledger(*db, SystemClock(), 0);
    for (int d = 0; d < 8; ++d) (void)ledger.SetBudget("Omni/D" + std::to_string(d) + ".hs", int64_t{100000000000000});
  }
};

void BM_ClaimAndReserve(benchmark::State& state) {
  Fixture f(200000);
  TaskStore tasks(*f.db, SystemClock());
  Ledger ledger(*f.db, SystemClock(), 0);
  size_t i = 0;
  for (auto _ : state) {
    const std::string& id = f.ids[i % f.ids.size()];
    std::string run = "run-" + std::to_string(i);
    Status st = f.db->Write([&]() -> Status {
      PL_RETURN_IF_ERROR(tasks.Claim(id, TaskStatus::kOpen, TaskStatus::kInProgress));
      return ledger.Reserve("Omni/D" + std::to_string(i % 8) + ".hs", run, id, 300);
    });
    if (!st.ok()) state.SkipWithError(st.message().c_str());
    ++i;
    if (i % f.ids.size() == 0) state.SkipWithError("ran out of open tasks");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ClaimAndReserve)->Iterations(20000)->Unit(benchmark::kMicrosecond);

void BM_ClaimOnly(benchmark::State& state) {
  Fixture f(200000);
  TaskStore tasks(*f.db, SystemClock());
  size_t i = 0;
  for (auto _ : state) {
    Status st = tasks.Claim(f.ids[i++ % f.ids.size()], TaskStatus::kOpen, TaskStatus::kInProgress);
    if (!st.ok()) state.SkipWithError(st.message().c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ClaimOnly)->Iterations(20000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace pipeline

BENCHMARK_MAIN();
