// Several processes reserving and settling against one domain at once: the
// budget invariant holds, every run is charged at most once, and the sums
// in `fund report` agree with the rows and with what the callers were told.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "store/db.h"
#include "testutil/testutil.h"

namespace pipeline {
namespace {

using nlohmann::json;
using testing::RunPipeline;
using testing::TempDir;

int64_t One(Db& db, const char* sql) {
  auto s = db.Prepare(sql);
  EXPECT_TRUE(s.ok()) << s.message();
  auto row = s->Step();
  EXPECT_TRUE(row.ok() && *row);
  return s->Int(0);
}

TEST(FundConcurrencyTest, InvariantHoldsUnderConcurrentReserveAndSettle) {
  TempDir dir;
  std::map<std::string, std::string> env = {{"PIPELINE_ROOT", dir / ".pipeline"}};
  ASSERT_TRUE(RunPipeline({"init"}, dir.path(), env).ok());
  constexpr int64_t kBudget = 2500;
  ASSERT_TRUE(RunPipeline({"fund", "set", "--domain", "D", "--cents", std::to_string(kBudget)}, dir.path(), env).ok());

  constexpr int kWorkers = 6, kIterations = 14;
  std::atomic<int64_t> reported_spent{0}, reserved{0}, refused{0}, overruns{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937 rng(1000 + w);
      auto fund = [&](std::vector<std::string> a) {
        a.insert(a.begin(), "fund");
        return RunPipeline(a, dir.path(), env);
      };
      for (int k = 0; k < kIterations; ++k) {
        std::string run = "w" + std::to_string(w) + "-" + std::to_string(k);
        int64_t hold = 1 + static_cast<int64_t>(rng() % 120);
        auto r = fund({"reserve", "--domain", "D", "--run-id", run, "--cents", std::to_string(hold)});
        if (r.exit.exit_code == 1) {
          ++refused;
          if (r.err.find("overrun") != std::string::npos) fund({"grant", "--domain", "D", "--cents", "0"});
          continue;
        }
        EXPECT_EQ(r.exit.exit_code, 0) << r.err;
        ++reserved;
        int dice = static_cast<int>(rng() % 20);
        if (dice < 3) continue;  // left held
        if (dice < 5) {
          EXPECT_TRUE(fund({"release", "--run-id", run}).ok());
          continue;
        }
        int64_t actual = dice == 5 ? hold + 1 + static_cast<int64_t>(rng() % 40) : static_cast<int64_t>(rng() % (hold + 1));
        auto s = fund({"settle", "--run-id", run, "--cents", std::to_string(actual), "--json"});
        EXPECT_TRUE(s.ok()) << s.err;
        json j = json::parse(s.out, nullptr, false);
        ASSERT_TRUE(j.is_object()) << s.out;
        EXPECT_EQ(j["already_settled"], false);
        reported_spent += j["spent_cents"].get<int64_t>();
        if (j["overrun"].get<bool>()) ++overruns;
        if (dice == 6) {  // a retry after a lost answer changes nothing
          auto again = fund({"settle", "--run-id", run, "--cents", std::to_string(actual + 5), "--json"});
          EXPECT_EQ(json::parse(again.out)["already_settled"], true);
        }
      }
    });
  }
  for (auto& t : workers) t.join();

  auto rep = RunPipeline({"fund", "report", "--json"}, dir.path(), env);
  ASSERT_TRUE(rep.ok()) << rep.err;
  json d = json::parse(rep.out).at(0);
  auto db = Db::Open(dir / ".pipeline/pipeline.db", false);
  ASSERT_TRUE(db.ok());
  Db& sql = **db;
  EXPECT_EQ(One(sql, "SELECT COUNT(*) FROM (SELECT run_id FROM ledger WHERE kind = 'spend' GROUP BY run_id HAVING COUNT(*) > 1)"), 0);
  int64_t spent = One(sql, "SELECT COALESCE(SUM(cents), 0) FROM ledger WHERE kind = 'spend'");
  int64_t held = One(sql, "SELECT COALESCE(SUM(cents), 0) FROM holds WHERE state = 'held'");
  int64_t excess = One(sql,
                       "SELECT COALESCE(SUM(MAX(0, l.cents - h.cents)), 0) FROM holds h JOIN ledger l "
                       "ON l.run_id = h.run_id AND l.kind = 'spend'");
  EXPECT_EQ(d["spent_cents"], spent);
  EXPECT_EQ(d["held_cents"], held);
  EXPECT_EQ(spent, reported_spent.load());
  EXPECT_EQ(d["budget_cents"], kBudget);
  EXPECT_EQ(d["remaining_cents"], kBudget - spent - held);
  EXPECT_LE(spent + held, kBudget + excess);
  EXPECT_EQ(One(sql, "SELECT COUNT(*) FROM holds"), reserved.load());
  EXPECT_GT(reserved.load(), 0);
  std::cerr << "reserved " << reserved << ", refused " << refused << ", overruns " << overruns << ", spent " << spent
            << ", held " << held << ", overrun excess " << excess << "\n";
}

}  // namespace
}  // namespace pipeline
