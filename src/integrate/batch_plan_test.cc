#include "integrate/batch_plan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

namespace pipeline {
namespace {

// A world where the check of prefix i passes unless the base is red or one
// of the changes 1..i is a culprit.
struct World {
  int k = 1;
  std::set<int> culprits;
  bool base_red = false;
  bool Passes(int prefix) const {
    if (base_red) return false;
    for (int c : culprits)
      if (c <= prefix) return false;
    return true;
  }
};

// Runs the plan to its end; results come back in a shuffled order when
// rng is given (parallel checks finish in any order).
BatchVerdict Drive(const World& w, int parallel, bool base_green, int* checks, std::mt19937* rng = nullptr) {
  BatchPlan plan(w.k, parallel, base_green);
  int rounds = 0;
  while (!plan.Done()) {
    std::vector<int> next = plan.NextChecks();
    EXPECT_FALSE(next.empty()) << "plan stalled";
    if (next.empty()) break;
    EXPECT_LE(static_cast<int>(next.size()), parallel);
    if (rng) std::shuffle(next.begin(), next.end(), *rng);
    for (int p : next) plan.Record(p, w.Passes(p));
    EXPECT_LT(++rounds, 64);
    if (rounds >= 64) break;
  }
  *checks = plan.checks_run() - (base_green ? 1 : 0);
  BatchVerdict v = plan.Verdict();
  // What lands is a prefix whose own tip was checked and passed.
  if (v.land > 0) {
    EXPECT_TRUE(plan.results().count(v.land) && plan.results().at(v.land)) << "landed an unchecked prefix " << v.land;
  }
  return v;
}

TEST(BatchPlanTest, AllGreenBatchLandsInOneCheck) {
  for (int k : {1, 2, 8, 32}) {
    World w{k};
    int checks = 0;
    BatchVerdict v = Drive(w, 1, true, &checks);
    EXPECT_EQ(v.land, k);
    EXPECT_FALSE(v.culprit);
    EXPECT_FALSE(v.base_red);
    EXPECT_EQ(v.requeue_from, 0);
    EXPECT_EQ(checks, 1);
  }
}

TEST(BatchPlanTest, OneCulpritAmongEightIsFoundAndOnlyItIsReturned) {
  for (int c = 1; c <= 8; ++c) {
    World w{8, {c}};
    int checks = 0;
    BatchVerdict v = Drive(w, 1, true, &checks);
    EXPECT_EQ(v.land, c - 1) << "culprit " << c;
    ASSERT_TRUE(v.culprit);
    EXPECT_EQ(*v.culprit, c);
    EXPECT_EQ(v.requeue_from, c < 8 ? c + 1 : 0);
    EXPECT_FALSE(v.base_red);
    // The tip, then a halving search over 8 prefixes: at most 1 + 3 checks.
    EXPECT_LE(checks, 4) << "culprit " << c;
  }
}

TEST(BatchPlanTest, TwoCulpritsTheFirstIsReturnedAndTheSecondRequeued) {
  World w{8, {3, 6}};
  int checks = 0;
  BatchVerdict v = Drive(w, 1, true, &checks);
  EXPECT_EQ(v.land, 2);
  EXPECT_EQ(*v.culprit, 3);
  EXPECT_EQ(v.requeue_from, 4);  // 4..8 go back, 6 among them: the next batch finds it
  World next{5, {3}};            // 4,5,6,7,8 renumbered: 6 is third
  BatchVerdict v2 = Drive(next, 1, true, &checks);
  EXPECT_EQ(v2.land, 2);
  EXPECT_EQ(*v2.culprit, 3);
}

TEST(BatchPlanTest, RedBaseIsReportedAndNobodyIsBlamed) {
  for (int k : {1, 4, 9}) {
    World w{k, {}, true};
    int checks = 0;
    BatchVerdict v = Drive(w, 2, /*base_green=*/false, &checks);
    EXPECT_TRUE(v.base_red) << k;
    EXPECT_EQ(v.land, 0);
    EXPECT_FALSE(v.culprit);
    EXPECT_EQ(v.requeue_from, 1);
  }
}

TEST(BatchPlanTest, UnknownBaseIsCheckedOnlyWhenTheSearchReachesIt) {
  World w{8, {5}};
  int checks = 0;
  BatchPlan plan(8, 1, false);
  BatchVerdict v = Drive(w, 1, false, &checks);
  EXPECT_EQ(v.land, 4);
  EXPECT_EQ(*v.culprit, 5);
  World first{8, {1}};
  BatchPlan p1(8, 1, false);
  while (!p1.Done())
    for (int p : p1.NextChecks()) p1.Record(p, first.Passes(p));
  EXPECT_TRUE(p1.results().count(0)) << "the base must be checked before change 1 is blamed";
  EXPECT_EQ(*p1.Verdict().culprit, 1);
}

TEST(BatchPlanTest, MoreSlotsNeedFewerRounds) {
  World w{32, {20}};
  auto rounds_with = [&](int parallel) {
    BatchPlan plan(32, parallel, true);
    int rounds = 0;
    while (!plan.Done()) {
      for (int p : plan.NextChecks()) plan.Record(p, w.Passes(p));
      ++rounds;
    }
    EXPECT_EQ(*plan.Verdict().culprit, 20);
    return rounds;
  };
  int one = rounds_with(1), four = rounds_with(4);
  EXPECT_LE(one, 1 + 6);   // tip + ceil(log2 32) + 1
  EXPECT_LT(four, one);
}

TEST(BatchPlanTest, EveryCulpritPlacementSizeAndSlotCountAgreesWithTheTruth) {
  std::mt19937 rng(7);
  for (int k = 1; k <= 16; ++k)
    for (int parallel = 1; parallel <= 4; ++parallel)
      for (int base_green = 0; base_green <= 1; ++base_green)
        for (int c = 0; c <= k; ++c) {  // c = 0: no culprit
          World w{k};
          if (c > 0) w.culprits = {c};
          int checks = 0;
          BatchVerdict v = Drive(w, parallel, base_green, &checks, &rng);
          SCOPED_TRACE("k=" + std::to_string(k) + " parallel=" + std::to_string(parallel) +
                       " culprit=" + std::to_string(c));
          EXPECT_FALSE(v.base_red);
          if (c == 0) {
            EXPECT_EQ(v.land, k);
            EXPECT_EQ(checks, 1);
          } else {
            EXPECT_EQ(v.land, c - 1);
            EXPECT_EQ(*v.culprit, c);
            int bound = 2 + static_cast<int>(std::ceil(std::log2(k + 1)));
            EXPECT_LE(checks, bound * parallel);
          }
        }
}

TEST(BatchPlanTest, NothingIsAskedTwiceAndInFlightChecksAreNotRepeated) {
  BatchPlan plan(8, 3, true);
  std::vector<int> first = plan.NextChecks();
  ASSERT_EQ(first, std::vector<int>{8});
  EXPECT_TRUE(plan.NextChecks().empty());  // the tip is in flight
  plan.Record(8, false);
  std::vector<int> second = plan.NextChecks();
  EXPECT_EQ(second.size(), 3u);
  std::set<int> asked(second.begin(), second.end());
  EXPECT_EQ(asked.size(), second.size());
  EXPECT_FALSE(asked.count(8));
  EXPECT_FALSE(asked.count(0));  // the base is known green
  EXPECT_TRUE(plan.NextChecks().empty());  // every slot busy
}

}  // namespace
}  // namespace pipeline
