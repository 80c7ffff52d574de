// The per-domain running totals (held_cents, spent_cents, kept by triggers
// since schema v4) against the sums they replace: after a long random mix of
// every ledger operation, after writes that bypass the Ledger class, and
// after migrating a v3 store that already has rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "ledger/ledger.h"
#include "ledger/ledger_testing.h"
#include "store/schema.h"

namespace pipeline {
namespace {

using ledger_testing::Describe;
using ledger_testing::TotalsMismatches;

std::unique_ptr<Db> OpenMemory() {
  auto db = Db::Open(":memory:", true);
  EXPECT_TRUE(db.ok()) << db.message();
  return std::move(db).value();
}

using ledger_testing::One;

struct Sums {
  int64_t held = 0, spent = 0;
};

// Recomputed from the rows, the way the ledger computed them before v4.
Sums RowSums(Db& db, const std::string& domain) {
  Sums out;
  auto h = db.Prepare("SELECT COALESCE(SUM(cents), 0) FROM holds WHERE domain = ? AND state = 'held'");
  h->Bind(1, domain);
  EXPECT_TRUE(*h->Step());
  out.held = h->Int(0);
  auto l = db.Prepare("SELECT COALESCE(SUM(cents), 0) FROM ledger WHERE domain = ? AND kind = 'spend'");
  l->Bind(1, domain);
  EXPECT_TRUE(*l->Step());
  out.spent = l->Int(0);
  return out;
}

int64_t Budget(Db& db, const std::string& domain) {
  auto s = db.Prepare("SELECT budget_cents FROM domains WHERE domain = ?");
  s->Bind(1, domain);
  EXPECT_TRUE(*s->Step()) << domain;
  return s->Int(0);
}

// The figures a reserve or a check now reads must be the ones the sums give.
void ExpectFiguresMatchRows(Ledger& ledger, Db& db, const std::string& domain, const std::string& where) {
  auto f = ledger.Check(domain);
  ASSERT_TRUE(f.ok()) << f.message();
  Sums s = RowSums(db, domain);
  EXPECT_EQ(f->held_cents, s.held) << domain << " " << where;
  EXPECT_EQ(f->spent_cents, s.spent) << domain << " " << where;
  EXPECT_EQ(f->remaining_cents, Budget(db, domain) - s.held - s.spent) << domain << " " << where;
}

bool Expected(const Status& s) {
  return s.ok() || s.kind() == ErrorKind::kRefused || s.kind() == ErrorKind::kNotFound ||
         s.kind() == ErrorKind::kConflict;
}

TEST(LedgerTotalsTest, RandomOperationsKeepTotalsEqualToTheSums) {
  auto db = OpenMemory();
  ASSERT_TRUE(Migrate(*db).ok());
  FakeClock clock;
  Ledger ledger(*db, clock, 300);
  const std::vector<std::string> domains = {"a", "b", "Omni/C.hs", "d e", "x"};
  std::mt19937 rng(20261126);
  auto pick_domain = [&] { return domains[rng() % domains.size()]; };
  auto pick_run = [&] { return "r" + std::to_string(rng() % 500); };
  std::map<std::string, int> ok;  // successful calls per operation
  constexpr int kOps = 4000;
  int64_t most_held = 0;  // held cents at the busiest checkpoint
  for (int i = 0; i < kOps; ++i) {
    clock.Advance(1);
    int op = static_cast<int>(rng() % 11);
    std::string d = pick_domain(), run = pick_run(), name;
    std::optional<std::string> task;
    if (rng() % 2) task = "t" + std::to_string(rng() % 50);
    Status s;
    switch (op) {
      case 0: name = "grant"; s = ledger.Grant(d, static_cast<int64_t>(rng() % 400)); break;
      case 1: name = "set"; s = ledger.SetBudget(d, static_cast<int64_t>(rng() % 3000)); break;
      case 2:
      case 3: name = "reserve"; s = ledger.Reserve(d, run, task, static_cast<int64_t>(rng() % 300)); break;
      case 4: name = "settle"; s = ledger.Settle(run, static_cast<int64_t>(rng() % 400)).status(); break;
      case 5: name = "release"; s = ledger.Release(run); break;
      case 6: name = "spend"; s = ledger.Spend(d, task, run, static_cast<int64_t>(rng() % 300)).status(); break;
      case 7: name = "debit"; s = ledger.SpendWithoutRun(d, task, static_cast<int64_t>(rng() % 100), "note").status(); break;
      case 8: {
        // Changes made and then rolled back must take their totals with them.
        name = "rolled back";
        Status w = db->Write([&]() -> Status {
          (void)ledger.Reserve(d, run, task, static_cast<int64_t>(rng() % 300));
          (void)ledger.Settle(run, static_cast<int64_t>(rng() % 400));
          (void)ledger.SpendWithoutRun(d, task, 7, "undone");
          return Refused("rolled back on purpose");
        });
        s = w.kind() == ErrorKind::kRefused ? Status::Ok() : w;
        break;
      }
      default: {
        // Several calls in one outer transaction, as the scheduler makes them.
        name = "batch";
        s = db->Write([&]() -> Status {
          Status r = ledger.Reserve(d, run, task, static_cast<int64_t>(rng() % 200));
          if (!Expected(r)) return r;
          auto st = ledger.Settle(run, static_cast<int64_t>(rng() % 300));
          if (!st.ok() && !Expected(st.status())) return st.status();
          return ledger.Release(pick_run()).kind() == ErrorKind::kIO ? IOError("release") : Status::Ok();
        });
        break;
      }
    }
    ASSERT_TRUE(Expected(s)) << "op " << i << " (" << name << "): " << s.message();
    if (s.ok()) ++ok[name];
    if (i % 100 == 99 || i == kOps - 1) {
      auto mismatches = TotalsMismatches(*db);
      ASSERT_TRUE(mismatches.empty()) << "after op " << i << ":\n" << Describe(mismatches);
      most_held = std::max(most_held, One(*db, "SELECT COALESCE(SUM(held_cents), 0) FROM domains"));
      for (const auto& dom : domains) ExpectFiguresMatchRows(ledger, *db, dom, "after op " + std::to_string(i));
    }
  }
  // The mix really exercised every path, with money in play.
  for (const char* n : {"grant", "set", "reserve", "settle", "release", "spend", "debit", "rolled back", "batch"})
    EXPECT_GT(ok[n], 20) << n;
  EXPECT_GT(most_held, 1000);
  EXPECT_GT(One(*db, "SELECT COUNT(*) FROM holds WHERE state = 'released'"), 0);
  EXPECT_GT(One(*db, "SELECT COUNT(*) FROM holds WHERE state = 'settled'"), 0);
  EXPECT_GT(One(*db, "SELECT COUNT(*) FROM ledger WHERE note LIKE '%overrun%'"), 0);
  EXPECT_EQ(One(*db, "SELECT COUNT(*) FROM ledger WHERE note = 'undone'"), 0);
  EXPECT_EQ(One(*db, "SELECT COUNT(*) FROM domains"), static_cast<int64_t>(domains.size()));
  auto report = ledger.Report();
  ASSERT_TRUE(report.ok());
  for (const auto& r : *report) {
    Sums s = RowSums(*db, r.domain);
    EXPECT_EQ(r.held_cents, s.held) << r.domain;
    EXPECT_EQ(r.spent_cents, s.spent) << r.domain;
  }
}

// Writes that do not go through Ledger (a later tool, a hand repair) keep the
// totals right too, and a domains row created after its rows counts them.
TEST(LedgerTotalsTest, DirectWritesAndLateDomainRowsKeepTotals) {
  auto db = OpenMemory();
  ASSERT_TRUE(Migrate(*db).ok());
  FakeClock clock;
  Ledger ledger(*db, clock, 0);
  auto exec = [&](const std::string& sql) {
    Status s = db->Write([&] { return db->Exec(sql); });
    ASSERT_TRUE(s.ok()) << sql << ": " << s.message();
    auto m = TotalsMismatches(*db);
    EXPECT_TRUE(m.empty()) << "after " << sql << ":\n" << Describe(m);
  };
  // Rows for a domain that has no domains row yet.
  exec("INSERT INTO holds (run_id, domain, cents, state, created_at) VALUES "
       "('h1', 'late', 40, 'held', 1), ('h2', 'late', 5, 'released', 1), ('h3', 'late', 9, 'held', 1)");
  exec("INSERT INTO ledger (domain, kind, cents, run_id, created_at) VALUES ('late', 'spend', 11, 's1', 1), "
       "('late', 'grant', 1000, NULL, 1)");
  ASSERT_TRUE(ledger.Grant("late", 500).ok());
  EXPECT_EQ(One(*db, "SELECT held_cents FROM domains WHERE domain = 'late'"), 49);
  EXPECT_EQ(One(*db, "SELECT spent_cents FROM domains WHERE domain = 'late'"), 11);
  ExpectFiguresMatchRows(ledger, *db, "late", "after the late grant");

  ASSERT_TRUE(ledger.Grant("other", 500).ok());
  exec("UPDATE holds SET cents = 30 WHERE run_id = 'h1'");
  exec("UPDATE holds SET state = 'held' WHERE run_id = 'h2'");
  exec("UPDATE holds SET domain = 'other' WHERE run_id = 'h3'");
  exec("UPDATE holds SET state = 'settled' WHERE run_id = 'h2'");
  exec("DELETE FROM holds WHERE run_id = 'h1'");
  exec("INSERT INTO holds (run_id, domain, cents, state, created_at) VALUES ('h4', 'other', 70, 'held', 2)");
  exec("UPDATE ledger SET cents = 20 WHERE run_id = 's1'");
  exec("UPDATE ledger SET domain = 'other' WHERE run_id = 's1'");
  exec("UPDATE ledger SET kind = 'spend', run_id = 's2' WHERE kind = 'grant' AND domain = 'late' AND cents = 1000");
  exec("DELETE FROM ledger WHERE run_id = 's1'");
  exec("UPDATE domains SET domain = 'renamed' WHERE domain = 'other'");
  exec("UPDATE domains SET domain = 'other' WHERE domain = 'renamed'");
  EXPECT_EQ(One(*db, "SELECT held_cents FROM domains WHERE domain = 'other'"), 79);
  EXPECT_EQ(One(*db, "SELECT spent_cents FROM domains WHERE domain = 'late'"), 1000);
  ExpectFiguresMatchRows(ledger, *db, "late", "after direct writes");
  ExpectFiguresMatchRows(ledger, *db, "other", "after direct writes");
}

// A store written at schema v3 (built by running the real migrations up to
// v3, then filled with the rows a v3 pipeline writes) migrates to the latest
// schema with totals equal to what its rows add up to.
TEST(LedgerTotalsTest, AVersion3StoreMigratesWithCorrectTotals) {
  auto db = OpenMemory();
  ASSERT_TRUE(MigrateTo(*db, 3).ok());
  ASSERT_EQ(One(*db, "PRAGMA user_version"), 3);
  EXPECT_FALSE(db->Prepare("SELECT held_cents FROM domains").ok()) << "a v3 store has no totals yet";

  const std::vector<std::string> with_row = {"a", "b", "Omni/C.hs", "empty"};
  const std::string orphan = "orphan";  // rows, but no domains row (never created by a v3 pipeline; still handled)
  std::map<std::string, Sums> expected;
  std::mt19937 rng(3);
  Status st = db->Write([&]() -> Status {
    for (const auto& d : with_row) {
      auto s = db->Prepare("INSERT INTO domains (domain, budget_cents, overrun_blocked, created_at, updated_at) "
                           "VALUES (?, 100000, 0, 1, 1)");
      PL_RETURN_IF_ERROR(s->Bind(1, d).Run());
    }
    const std::vector<std::string> filled = {"a", "b", "Omni/C.hs", orphan};
    for (int i = 0; i < 600; ++i) {
      const std::string& d = filled[rng() % filled.size()];
      int64_t cents = static_cast<int64_t>(rng() % 500);
      std::string run = "run-" + std::to_string(i);
      static const char* kStates[] = {"held", "settled", "released"};
      std::string state = kStates[rng() % 3];
      auto h = db->Prepare("INSERT INTO holds (run_id, domain, cents, state, created_at) VALUES (?, ?, ?, ?, 1)");
      PL_RETURN_IF_ERROR(h->BindAll(run, d, cents, state).Run());
      if (state == "held") expected[d].held += cents;
      if (state == "settled") {
        int64_t actual = static_cast<int64_t>(rng() % 600);
        auto l = db->Prepare("INSERT INTO ledger (domain, kind, cents, run_id, created_at) VALUES (?, 'spend', ?, ?, 1)");
        PL_RETURN_IF_ERROR(l->BindAll(d, actual, run).Run());
        expected[d].spent += actual;
      }
      if (i % 7 == 0) {
        auto g = db->Prepare("INSERT INTO ledger (domain, kind, cents, created_at) VALUES (?, ?, ?, 1)");
        PL_RETURN_IF_ERROR(g->BindAll(d, i % 2 ? "grant" : "set", cents).Run());
      }
      if (i % 11 == 0) {
        auto x = db->Prepare("INSERT INTO ledger (domain, kind, cents, note, created_at) VALUES (?, 'spend', ?, 'debit', 1)");
        PL_RETURN_IF_ERROR(x->BindAll(d, cents).Run());
        expected[d].spent += cents;
      }
    }
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_GT(expected["a"].held, 0);
  ASSERT_GT(expected["a"].spent, 0);

  // Before migrating (a read-only connection never migrates): the same
  // figures, summed from the rows.
  FakeClock clock;
  Ledger ledger(*db, clock, 0);
  auto before = ledger.Report();
  ASSERT_TRUE(before.ok()) << before.message();
  ASSERT_EQ(before->size(), with_row.size());
  for (const auto& r : *before) {
    EXPECT_EQ(r.held_cents, expected[r.domain].held) << r.domain << " at v3";
    EXPECT_EQ(r.spent_cents, expected[r.domain].spent) << r.domain << " at v3";
  }

  ASSERT_TRUE(Migrate(*db).ok());
  EXPECT_EQ(One(*db, "PRAGMA user_version"), LatestSchemaVersion());
  auto m = TotalsMismatches(*db);
  EXPECT_TRUE(m.empty()) << Describe(m);
  for (const auto& d : with_row) {
    auto f = ledger.Check(d);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->held_cents, expected[d].held) << d;
    EXPECT_EQ(f->spent_cents, expected[d].spent) << d;
    EXPECT_EQ(f->remaining_cents, 100000 - expected[d].held - expected[d].spent) << d;
  }
  // The orphan's rows count from the moment its domains row appears.
  ASSERT_TRUE(ledger.Grant(orphan, 10).ok());
  auto f = ledger.Check(orphan);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->held_cents, expected[orphan].held);
  EXPECT_EQ(f->spent_cents, expected[orphan].spent);
  // And the migrated store keeps them from then on.
  ASSERT_TRUE(ledger.Reserve("a", "new-run", std::nullopt, 5).ok());
  ASSERT_TRUE(ledger.Settle("run-new-never", 1).status().kind() == ErrorKind::kNotFound);
  ASSERT_TRUE(ledger.Settle("new-run", 3).ok());
  EXPECT_EQ(ledger.Check("a")->spent_cents, expected["a"].spent + 3);
  m = TotalsMismatches(*db);
  EXPECT_TRUE(m.empty()) << Describe(m);
}

}  // namespace
}  // namespace pipeline
