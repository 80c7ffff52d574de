// In-process ledger throughput: one Reserve + Settle pair per iteration (two
// write transactions) against a file store in WAL mode, as the scheduler
// does it. Also a pair joined into one transaction, and Check alone.
#include <benchmark/benchmark.h>

#include "ledger/ledger.h"
#include "store/schema.h"
#include "testutil/testutil.h"

namespace pipeline {
namespace {

struct Fixture {
  testing::TempDir dir;
  std::unique_ptr<Db> db;
  std::unique_ptr<Ledger> ledger;
  Fixture() {
    db = std::move(Db::Open(dir / "pipeline.db", true).value());
    if (!Migrate(*db).ok()) abort();
    ledger = std::make_unique<Ledger>(*db, SystemClock(), 0);
    if (!ledger->SetBudget("D", kMaxCents).ok()) abort();
  }
};

void BM_ReserveSettle(benchmark::State& state) {
  Fixture f;
  int64_t n = 0;
  for (auto _ : state) {
    std::string run = "r" + std::to_string(n++);
    if (!f.ledger->Reserve("D", run, std::nullopt, 300).ok()) state.SkipWithError("reserve");
    if (!f.ledger->Settle(run, 120).ok()) state.SkipWithError("settle");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReserveSettle)->Unit(benchmark::kMicrosecond);

void BM_ReserveSettleOneTransaction(benchmark::State& state) {
  Fixture f;
  int64_t n = 0;
  for (auto _ : state) {
    std::string run = "r" + std::to_string(n++);
    Status s = f.db->Write([&]() -> Status {
      PL_RETURN_IF_ERROR(f.ledger->Reserve("D", run, std::nullopt, 300));
      return f.ledger->Settle(run, 120).status();
    });
    if (!s.ok()) state.SkipWithError("write");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReserveSettleOneTransaction)->Unit(benchmark::kMicrosecond);

void BM_Check(benchmark::State& state) {
  Fixture f;
  for (int i = 0; i < 1000; ++i) (void)f.ledger->Spend("D", std::nullopt, "s" + std::to_string(i), 1);
  for (auto _ : state) benchmark::DoNotOptimize(f.ledger->Check("D"));
}
BENCHMARK(BM_Check)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace pipeline

BENCHMARK_MAIN();
