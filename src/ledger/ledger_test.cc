#include "ledger/ledger.h"

#include <gtest/gtest.h>

#include <cmath>

#include "store/schema.h"

namespace pipeline {
namespace {

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Db::Open(":memory:", true);
    ASSERT_TRUE(db.ok()) << db.message();
    db_ = std::move(*db);
    ASSERT_TRUE(Migrate(*db_).ok());
    ledger_ = std::make_unique<Ledger>(*db_, clock_, 0);
  }
  DomainReport Fig(const std::string& d) {
    auto r = ledger_->Check(d);
    EXPECT_TRUE(r.ok()) << r.message();
    return r.ok() ? *r : DomainReport{};
  }
  int64_t Count(const std::string& sql) {
    auto s = db_->Prepare(sql);
    EXPECT_TRUE(s.ok());
    auto row = s->Step();
    EXPECT_TRUE(row.ok() && *row);
    return s->Int(0);
  }

  FakeClock clock_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LedgerTest, GrantAndSetAdjustTheBudget) {
  ASSERT_TRUE(ledger_->Grant("a", 500).ok());
  ASSERT_TRUE(ledger_->Grant("a", 250).ok());
  EXPECT_EQ(Fig("a").budget_cents, 750);
  ASSERT_TRUE(ledger_->SetBudget("a", 100).ok());
  EXPECT_EQ(Fig("a").budget_cents, 100);
  EXPECT_EQ(Fig("a").remaining_cents, 100);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger WHERE kind IN ('grant','set')"), 3);
}

TEST_F(LedgerTest, ReserveHoldsAndRefusesWhatDoesNotFit) {
  ASSERT_TRUE(ledger_->Grant("a", 1000).ok());
  ASSERT_TRUE(ledger_->Reserve("a", "r1", std::string("t1"), 600).ok());
  EXPECT_EQ(Fig("a").held_cents, 600);
  EXPECT_EQ(Fig("a").remaining_cents, 400);
  Status s = ledger_->Reserve("a", "r2", std::nullopt, 401);
  EXPECT_EQ(s.kind(), ErrorKind::kRefused);
  EXPECT_NE(s.message().find("400 cents left"), std::string::npos) << s.message();
  EXPECT_TRUE(ledger_->Reserve("a", "r2", std::nullopt, 400).ok());
  EXPECT_EQ(Fig("a").remaining_cents, 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM holds"), 2);
}

TEST_F(LedgerTest, ReserveIsIdempotentOnRunId) {
  ASSERT_TRUE(ledger_->Grant("a", 1000).ok());
  ASSERT_TRUE(ledger_->Reserve("a", "r1", std::nullopt, 300).ok());
  ASSERT_TRUE(ledger_->Reserve("a", "r1", std::nullopt, 300).ok());
  ASSERT_TRUE(ledger_->Reserve("a", "r1", std::nullopt, 900).ok());  // the existing hold stands
  EXPECT_EQ(Fig("a").held_cents, 300);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM holds"), 1);
  ASSERT_TRUE(ledger_->Grant("b", 1000).ok());
  EXPECT_EQ(ledger_->Reserve("b", "r1", std::nullopt, 1).kind(), ErrorKind::kConflict);
  ASSERT_TRUE(ledger_->Settle("r1", 10).ok());
  EXPECT_EQ(ledger_->Reserve("a", "r1", std::nullopt, 1).kind(), ErrorKind::kRefused);
}

TEST_F(LedgerTest, SettleSpendsAndReleasesTheRestOnce) {
  ASSERT_TRUE(ledger_->Grant("a", 1000).ok());
  ASSERT_TRUE(ledger_->Reserve("a", "r1", std::string("t1"), 300).ok());
  auto r = ledger_->Settle("r1", 120);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_FALSE(r->already_settled);
  EXPECT_EQ(r->spent_cents, 120);
  EXPECT_EQ(r->released_cents, 180);
  EXPECT_FALSE(r->overrun);
  DomainReport f = Fig("a");
  EXPECT_EQ(f.spent_cents, 120);
  EXPECT_EQ(f.held_cents, 0);
  EXPECT_EQ(f.remaining_cents, 880);
  auto again = ledger_->Settle("r1", 999);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_settled);
  EXPECT_EQ(again->spent_cents, 120);
  EXPECT_EQ(Fig("a").spent_cents, 120);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger WHERE kind = 'spend'"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger WHERE kind = 'spend' AND task_id = 't1'"), 1);
}

TEST_F(LedgerTest, SettleOfUnknownRunIsNotFound) {
  EXPECT_EQ(ledger_->Settle("nope", 1).kind(), ErrorKind::kNotFound);
  EXPECT_EQ(ledger_->Release("nope").kind(), ErrorKind::kNotFound);
}

TEST_F(LedgerTest, ReleaseDropsTheHoldIdempotently) {
  ASSERT_TRUE(ledger_->Grant("a", 1000).ok());
  ASSERT_TRUE(ledger_->Reserve("a", "r1", std::nullopt, 300).ok());
  ASSERT_TRUE(ledger_->Release("r1").ok());
  ASSERT_TRUE(ledger_->Release("r1").ok());
  DomainReport f = Fig("a");
  EXPECT_EQ(f.held_cents, 0);
  EXPECT_EQ(f.spent_cents, 0);
  EXPECT_EQ(f.remaining_cents, 1000);
  // A run that reports a cost after its hold was released is still charged.
  auto r = ledger_->Settle("r1", 50);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Fig("a").spent_cents, 50);
}

TEST_F(LedgerTest, OverrunIsRecordedInFullAndBlocksUntilGrant) {
  ASSERT_TRUE(ledger_->Grant("a", 1000).ok());
  ASSERT_TRUE(ledger_->Reserve("a", "r1", std::nullopt, 300).ok());
  auto r = ledger_->Settle("r1", 450);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->overrun);
  EXPECT_EQ(r->spent_cents, 450);
  DomainReport f = Fig("a");
  EXPECT_TRUE(f.overrun_blocked);
  EXPECT_EQ(f.spent_cents, 450);
  Status s = ledger_->Reserve("a", "r2", std::nullopt, 1);
  EXPECT_EQ(s.kind(), ErrorKind::kRefused);
  EXPECT_NE(s.message().find("overrun"), std::string::npos);
  ASSERT_TRUE(ledger_->Grant("a", 0).ok());
  EXPECT_FALSE(Fig("a").overrun_blocked);
  EXPECT_TRUE(ledger_->Reserve("a", "r2", std::nullopt, 1).ok());
  // Set unblocks too.
  ASSERT_TRUE(ledger_->Settle("r2", 2).ok());
  EXPECT_TRUE(Fig("a").overrun_blocked);
  ASSERT_TRUE(ledger_->SetBudget("a", 5000).ok());
  EXPECT_FALSE(Fig("a").overrun_blocked);
}

TEST_F(LedgerTest, SpendIsIdempotentAndSettlesAHold) {
  ASSERT_TRUE(ledger_->Grant("a", 1000).ok());
  auto r = ledger_->Spend("a", std::string("t1"), "r1", 100);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->already_settled);
  auto again = ledger_->Spend("a", std::string("t1"), "r1", 100);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_settled);
  EXPECT_EQ(Fig("a").spent_cents, 100);
  ASSERT_TRUE(ledger_->Reserve("a", "r2", std::nullopt, 300).ok());
  auto s = ledger_->Spend("a", std::nullopt, "r2", 200);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->released_cents, 100);
  EXPECT_EQ(Fig("a").held_cents, 0);
  EXPECT_EQ(Fig("a").spent_cents, 300);
  EXPECT_EQ(ledger_->Spend("b", std::nullopt, "r2", 1).value().already_settled, true);
  ASSERT_TRUE(ledger_->Reserve("a", "r3", std::nullopt, 10).ok());
  EXPECT_EQ(ledger_->Spend("b", std::nullopt, "r3", 1).kind(), ErrorKind::kConflict);
}

TEST_F(LedgerTest, UnreservedSpendBeyondBudgetIsAnOverrun) {
  ASSERT_TRUE(ledger_->Grant("a", 100).ok());
  auto r = ledger_->SpendWithoutRun("a", std::nullopt, 80, "debit");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->overrun);
  r = ledger_->SpendWithoutRun("a", std::nullopt, 80, "debit");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->overrun);
  EXPECT_EQ(Fig("a").spent_cents, 160);
  EXPECT_EQ(Fig("a").remaining_cents, -60);
  EXPECT_TRUE(Fig("a").overrun_blocked);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ledger WHERE kind = 'spend' AND run_id IS NULL"), 2);
}

TEST_F(LedgerTest, UnknownDomainUsesTheDefaultBudgetAndCheckCreatesNothing) {
  DomainReport f = Fig("never-seen");
  EXPECT_EQ(f.budget_cents, 0);
  EXPECT_EQ(f.remaining_cents, 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM domains"), 0);
  EXPECT_EQ(ledger_->Reserve("never-seen", "r1", std::nullopt, 1).kind(), ErrorKind::kRefused);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM domains"), 0);  // the refused reserve rolled back

  Ledger generous(*db_, clock_, 700);
  EXPECT_EQ(generous.Check("fresh")->remaining_cents, 700);
  ASSERT_TRUE(generous.Reserve("fresh", "r1", std::nullopt, 700).ok());
  EXPECT_EQ(Count("SELECT budget_cents FROM domains WHERE domain = 'fresh'"), 700);
  ASSERT_TRUE(generous.Grant("other", 5).ok());
  EXPECT_EQ(generous.Check("other")->budget_cents, 705);
}

TEST_F(LedgerTest, DomainsAreStoredVerbatimButControlCharactersAreRefused) {
  for (std::string d : {"Omni/A.hs", "$(rm -rf /)", "quote\"s' and spaces", "ünïcode"}) {
    ASSERT_TRUE(ledger_->Grant(d, 5).ok()) << d;
    EXPECT_EQ(Fig(d).budget_cents, 5);
  }
  for (std::string d : {std::string(""), std::string("a\nb"), std::string("tab\t"), std::string("\xff\xfe")}) {
    EXPECT_EQ(ledger_->Grant(d, 5).kind(), ErrorKind::kInvalidArgument);
  }
  EXPECT_EQ(ledger_->Grant("a", -1).kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(ledger_->Grant("a", kMaxCents + 1).kind(), ErrorKind::kInvalidArgument);
  ASSERT_TRUE(ledger_->Grant("a", kMaxCents).ok());
  EXPECT_EQ(ledger_->Grant("a", 1).kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(Fig("a").budget_cents, kMaxCents);
}

TEST_F(LedgerTest, ReportAndHistory) {
  ASSERT_TRUE(ledger_->Grant("b", 100).ok());
  clock_.Advance(1);
  ASSERT_TRUE(ledger_->Grant("a", 1000).ok());
  clock_.Advance(1);
  ASSERT_TRUE(ledger_->Reserve("a", "r1", std::nullopt, 300).ok());
  clock_.Advance(1);
  ASSERT_TRUE(ledger_->Reserve("a", "r2", std::nullopt, 200).ok());
  clock_.Advance(1);
  ASSERT_TRUE(ledger_->Settle("r1", 100).ok());
  clock_.Advance(1);
  ASSERT_TRUE(ledger_->Release("r2").ok());
  auto rep = ledger_->Report();
  ASSERT_TRUE(rep.ok());
  ASSERT_EQ(rep->size(), 2u);
  EXPECT_EQ((*rep)[0].domain, "a");
  EXPECT_EQ((*rep)[0].spent_cents, 100);
  EXPECT_EQ((*rep)[0].remaining_cents, 900);
  EXPECT_EQ((*rep)[1].domain, "b");
  auto h = ledger_->History(std::string("a"));
  ASSERT_TRUE(h.ok());
  std::vector<std::string> kinds;
  for (const auto& e : *h) kinds.push_back(e["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"grant", "hold", "hold", "spend", "release"}));
  EXPECT_EQ((*h)[3]["run_id"], "r1");
  EXPECT_EQ(ledger_->History(std::nullopt)->size(), 6u);
}

TEST_F(LedgerTest, ReserveJoinsAnOuterTransaction) {
  ASSERT_TRUE(ledger_->Grant("a", 1000).ok());
  Status s = db_->Write([&]() -> Status {
    PL_RETURN_IF_ERROR(ledger_->Reserve("a", "r1", std::nullopt, 300));
    return Conflict("claim lost");  // the outer transaction fails: the hold must go too
  });
  EXPECT_EQ(s.kind(), ErrorKind::kConflict);
  EXPECT_EQ(Fig("a").held_cents, 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM holds"), 0);
}

// The invariant, driven by a deterministic pseudo-random sequence: through
// reservations, spent + held never exceeds the budget plus what overruns added.
TEST_F(LedgerTest, SpentPlusHeldStaysWithinBudgetPlusOverruns) {
  ASSERT_TRUE(ledger_->Grant("a", 5000).ok());
  uint64_t x = 12345;
  auto next = [&](uint64_t n) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return (x >> 33) % n;
  };
  std::vector<std::pair<std::string, int64_t>> open;
  int64_t overrun_excess = 0, refused = 0;
  for (int i = 0; i < 2000; ++i) {
    if (open.empty() || next(3) == 0) {
      std::string run = "r" + std::to_string(i);
      int64_t c = static_cast<int64_t>(next(400));
      Status s = ledger_->Reserve("a", run, std::nullopt, c);
      if (s.ok()) open.push_back({run, c});
      else {
        ASSERT_EQ(s.kind(), ErrorKind::kRefused);
        ++refused;
        if (Fig("a").overrun_blocked) {
          ASSERT_TRUE(ledger_->Grant("a", 0).ok());
        }
      }
    } else {
      size_t k = next(open.size());
      auto [run, hold] = open[k];
      open.erase(open.begin() + static_cast<long>(k));
      if (next(5) == 0) {
        ASSERT_TRUE(ledger_->Release(run).ok());
      } else {
        int64_t actual = next(20) == 0 ? hold + static_cast<int64_t>(next(50)) + 1 : static_cast<int64_t>(next(hold + 1));
        auto r = ledger_->Settle(run, actual);
        ASSERT_TRUE(r.ok());
        if (r->overrun) overrun_excess += actual - hold;
      }
    }
    DomainReport f = Fig("a");
    ASSERT_LE(f.spent_cents + f.held_cents, f.budget_cents + overrun_excess) << "step " << i;
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(overrun_excess, 0);
}

TEST(MoneyTest, CentsForSettlementRoundsUp) {
  EXPECT_EQ(CentsForSettlement(0), 0);
  EXPECT_EQ(CentsForSettlement(2.5), 3);
  EXPECT_EQ(CentsForSettlement(3.5), 4);
  EXPECT_EQ(CentsForSettlement(0.01), 1);
  EXPECT_EQ(CentsForSettlement(123.0), 123);
  EXPECT_EQ(CentsForSettlement(123.0000000001), 123);
  EXPECT_EQ(CentsForSettlement(0.1 + 0.2 + 0.7), 1);
  EXPECT_EQ(CentsForSettlement(-4), 0);
  EXPECT_EQ(CentsForSettlement(std::nan("")), 0);
  EXPECT_EQ(CentsForSettlement(INFINITY), kMaxCents);
}

TEST(MoneyTest, ParseCentsIsStrict) {
  EXPECT_EQ(*ParseCents("0", "--cents"), 0);
  EXPECT_EQ(*ParseCents("300", "--cents"), 300);
  EXPECT_EQ(*ParseCents("1000000000000000", "--cents"), kMaxCents);
  for (const char* bad : {"", "-1", "+1", "12.5", "1e3", "abc", " 7", "7 ", "99999999999999999999", "1000000000000001"}) {
    auto r = ParseCents(bad, "--cents");
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.kind(), ErrorKind::kInvalidArgument) << bad;
    }
  }
}

}  // namespace
}  // namespace pipeline
