// kill -9 of a ledger writer in the middle of its batches leaves a store that
// is intact and consistent. The writer is this test binary re-executed (from
// an argv) into LedgerCrashChild.Writer, which loops until it is killed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <random>
#include <thread>

#include "ledger/ledger.h"
#include "ledger/ledger_testing.h"
#include "proc/process.h"
#include "store/schema.h"
#include "util/files.h"

namespace pipeline {
namespace {

constexpr const char* kDbEnv = "PIPELINE_LEDGER_CRASH_DB";
constexpr int64_t kBudget = 20000;

using ledger_testing::One;

std::string Text(Db& db, const std::string& sql) {
  auto s = db.Prepare(sql);
  auto row = s->Step();
  return row.ok() && *row ? s->Text(0) : "";
}

// Each batch is one transaction: two new holds (a-N and b-N), and the
// settling or release of up to two older ones. Killed at any instruction,
// the store keeps a whole batch or none of it.
TEST(LedgerCrashChild, Writer) {
  const char* path = getenv(kDbEnv);
  if (!path) GTEST_SKIP() << "only run as the child of LedgerCrashTest";
  auto db = Db::Open(path, false);
  ASSERT_TRUE(db.ok());
  Ledger ledger(**db, SystemClock(), 0);
  std::mt19937 rng(static_cast<unsigned>(getpid()));
  std::string me = std::to_string(getpid());
  for (int n = 0;; ++n) {
    Status s = (*db)->Write([&]() -> Status {
      std::vector<std::pair<std::string, int64_t>> open;
      auto q = (*db)->Prepare("SELECT run_id, cents FROM holds WHERE state = 'held' ORDER BY random() LIMIT 2");
      while (*q->Step()) open.push_back({q->Text(0), q->Int(1)});
      for (auto& [run, hold] : open) {
        int dice = static_cast<int>(rng() % 10);
        if (dice == 0) {
          PL_RETURN_IF_ERROR(ledger.Release(run));
        } else {
          int64_t actual = dice == 1 ? hold + 1 + rng() % 20 : static_cast<int64_t>(rng() % (hold + 1));
          PL_ASSIGN_OR_RETURN(SettleResult r, ledger.Settle(run, actual));
          if (r.already_settled) return IOError("settled twice");
        }
      }
      std::string id = me + "-" + std::to_string(n);
      PL_RETURN_IF_ERROR(ledger.Reserve("D", "a-" + id, std::nullopt, 1 + rng() % 200));
      return ledger.Reserve("D", "b-" + id, std::nullopt, 1 + rng() % 200);
    });
    if (!s.ok() && s.kind() == ErrorKind::kRefused) {
      auto f = ledger.Check("D");
      if (f.ok() && f->overrun_blocked) (void)ledger.Grant("D", 0);
    } else {
      ASSERT_TRUE(s.ok()) << s.message();
    }
  }
}

TEST(LedgerCrashTest, KillNineMidBatchLeavesAConsistentStore) {
  char tmpl[] = "/tmp/ledger-crash-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string path = std::string(tmpl) + "/pipeline.db";
  {
    auto db = Db::Open(path, true);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(Migrate(**db).ok());
    FakeClock clock;
    ASSERT_TRUE(Ledger(**db, clock, 0).SetBudget("D", kBudget).ok());
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 6; ++round) {
    SpawnOptions opts;
    opts.argv = {SelfExePath(), "--gtest_filter=LedgerCrashChild.Writer"};
    opts.env_set[kDbEnv] = path;
    auto child = Spawn(opts);
    ASSERT_TRUE(child.ok()) << child.message();
    std::this_thread::sleep_for(std::chrono::milliseconds(60 + rng() % 200));
    ASSERT_EQ(kill(child->pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child->pid, &status, 0), child->pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself: exit " << WEXITSTATUS(status);

    auto opened = Db::Open(path, false);
    ASSERT_TRUE(opened.ok());
    Db& db = **opened;
    EXPECT_EQ(Text(db, "PRAGMA integrity_check"), "ok");
    // A settled hold has its spend; a hold still held or released has none.
    EXPECT_EQ(One(db, "SELECT COUNT(*) FROM holds h WHERE state = 'settled' AND NOT EXISTS "
                      "(SELECT 1 FROM ledger l WHERE l.kind = 'spend' AND l.run_id = h.run_id)"), 0);
    EXPECT_EQ(One(db, "SELECT COUNT(*) FROM holds h JOIN ledger l ON l.run_id = h.run_id AND l.kind = 'spend' "
                      "WHERE h.state <> 'settled'"), 0);
    EXPECT_EQ(One(db, "SELECT COUNT(*) FROM ledger WHERE kind = 'spend' AND run_id NOT IN (SELECT run_id FROM holds)"), 0);
    // Batches are whole: a-N exists exactly when b-N does.
    EXPECT_EQ(One(db, "SELECT COUNT(*) FROM holds WHERE run_id LIKE 'a-%' AND "
                      "('b-' || substr(run_id, 3)) NOT IN (SELECT run_id FROM holds)"), 0);
    EXPECT_EQ(One(db, "SELECT COUNT(*) FROM holds WHERE run_id LIKE 'a-%'"),
              One(db, "SELECT COUNT(*) FROM holds WHERE run_id LIKE 'b-%'"));
    int64_t spent = One(db, "SELECT COALESCE(SUM(cents), 0) FROM ledger WHERE kind = 'spend'");
    int64_t held = One(db, "SELECT COALESCE(SUM(cents), 0) FROM holds WHERE state = 'held'");
    int64_t excess = One(db, "SELECT COALESCE(SUM(MAX(0, l.cents - h.cents)), 0) FROM holds h JOIN ledger l "
                             "ON l.run_id = h.run_id AND l.kind = 'spend'");
    EXPECT_LE(spent + held, kBudget + excess) << "round " << round;
    // The running totals moved in the same transactions as the rows they sum.
    auto mismatches = ledger_testing::TotalsMismatches(db);
    EXPECT_TRUE(mismatches.empty()) << "round " << round << ":\n" << ledger_testing::Describe(mismatches);
    EXPECT_EQ(One(db, "SELECT held_cents FROM domains WHERE domain = 'D'"), held) << "round " << round;
    EXPECT_EQ(One(db, "SELECT spent_cents FROM domains WHERE domain = 'D'"), spent) << "round " << round;
    if (round == 5) {
      EXPECT_GT(One(db, "SELECT COUNT(*) FROM holds"), 0) << "the writer never committed";
    }
  }
  (void)RemoveAll(tmpl);
}

}  // namespace
}  // namespace pipeline
