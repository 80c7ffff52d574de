#include "integrate/isolation_plan.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>

namespace pipeline {
namespace {

using Oracle = std::function<CheckOutcome(const CheckMembers&)>;

// A set fails when it holds a bad change, or both changes of a pair that
// break only together; the base fails when base_red.
struct World {
  std::set<int> bad;
  std::vector<std::pair<int, int>> together;
  bool base_red = false;
  std::map<int, int> needs;  // change -> the change it was built on (does not merge without it)

  CheckOutcome operator()(const CheckMembers& m) const {
    std::set<int> in(m.begin(), m.end());
    for (int i : m) {
      auto n = needs.find(i);
      if (n != needs.end() && !in.count(n->second)) return CheckOutcome::kUnbuildable;
    }
    if (base_red) return CheckOutcome::kFailed;
    for (int i : m)
      if (bad.count(i)) return CheckOutcome::kFailed;
    for (auto [a, b] : together)
      if (in.count(a) && in.count(b)) return CheckOutcome::kFailed;
    return CheckOutcome::kPassed;
  }
};

struct Driven {
  IsolationVerdict verdict;
  int rounds = 0, checks = 0;
  std::map<CheckMembers, CheckOutcome> asked;
};

Driven Drive(IsolationPlan& plan, const World& world, int parallel) {
  Driven run;
  while (!plan.Done()) {
    std::vector<CheckMembers> next = plan.NextChecks();
    if (next.empty()) {
      EXPECT_TRUE(plan.Done()) << "stalled";
      break;
    }
    EXPECT_LE(static_cast<int>(next.size()), parallel);
    ++run.rounds;
    for (const CheckMembers& m : next) {
      EXPECT_FALSE(run.asked.count(m)) << "a set was checked twice";
      CheckOutcome o = world(m);
      run.asked[m] = o;
      int unmerged = 0;
      if (o == CheckOutcome::kUnbuildable) {
        std::set<int> in(m.begin(), m.end());
        for (int i : m)
          if (world.needs.count(i) && !in.count(world.needs.at(i)) && !unmerged) unmerged = i;
      }
      ++run.checks;
      plan.Record(m, o, unmerged);
    }
    if (run.rounds > 200) {
      ADD_FAILURE() << "no end";
      break;
    }
  }
  run.verdict = plan.Verdict();
  return run;
}

std::vector<int> Range(int from, int to) {
  std::vector<int> r;
  for (int i = from; i <= to; ++i) r.push_back(i);
  return r;
}

// What lands was checked, as exactly that set in that order, and passed;
// every culprit's proof is a failed check that holds it.
void ExpectSound(const Driven& run) {
  if (!run.verdict.land.empty()) {
    auto it = run.asked.find(run.verdict.land);
    ASSERT_NE(it, run.asked.end()) << "landed a set never checked";
    EXPECT_EQ(it->second, CheckOutcome::kPassed);
    EXPECT_TRUE(std::is_sorted(run.verdict.land.begin(), run.verdict.land.end()));
  }
  for (const auto& [i, proof] : run.verdict.culprits) {
    auto it = run.asked.find(proof);
    ASSERT_NE(it, run.asked.end());
    EXPECT_EQ(it->second, CheckOutcome::kFailed);
    EXPECT_NE(std::find(proof.begin(), proof.end(), i), proof.end());
    EXPECT_EQ(std::find(run.verdict.land.begin(), run.verdict.land.end(), i), run.verdict.land.end());
  }
}

TEST(IsolationPlan, AllGreenLandsInOneCheck) {
  IsolationPlan plan(32, 8, false);
  Driven run = Drive(plan, World{}, 8);
  EXPECT_EQ(run.checks, 1);
  EXPECT_EQ(run.verdict.land, Range(1, 32));
  EXPECT_TRUE(run.verdict.culprits.empty());
}

TEST(IsolationPlan, ThreeCulpritsAmongThirtyTwoAreAllFoundInOneBatch) {
  World w;
  w.bad = {6, 16, 27};
  IsolationPlan plan(32, 16, true);
  Driven run = Drive(plan, w, 16);
  ExpectSound(run);
  EXPECT_EQ(run.verdict.culprits.size(), 3u);
  for (int b : w.bad) EXPECT_TRUE(run.verdict.culprits.count(b)) << b;
  EXPECT_EQ(run.verdict.land.size(), 29u);
  // Tip, groups of two, the red pairs' halves, the compose.
  EXPECT_EQ(run.rounds, 4);
}

TEST(IsolationPlan, WithFewSlotsStillFindsEveryCulprit) {
  World w;
  w.bad = {2, 3, 11};
  IsolationPlan plan(12, 3, true);
  Driven run = Drive(plan, w, 3);
  ExpectSound(run);
  EXPECT_EQ(run.verdict.culprits.size(), 3u);
  EXPECT_EQ(run.verdict.land, (CheckMembers{1, 4, 5, 6, 7, 8, 9, 10, 12}));
}

TEST(IsolationPlan, ARedBaseBlamesNobody) {
  World w;
  w.base_red = true;
  IsolationPlan plan(8, 4, false);
  Driven run = Drive(plan, w, 4);
  EXPECT_TRUE(run.verdict.base_red);
  EXPECT_TRUE(run.verdict.land.empty());
  EXPECT_TRUE(run.verdict.culprits.empty());
  EXPECT_TRUE(run.asked.count({}));  // the base was checked alone
}

TEST(IsolationPlan, AGreenBaseIsNotCheckedAgain) {
  World w;
  w.bad = {3};
  IsolationPlan plan(8, 4, true);
  Driven run = Drive(plan, w, 4);
  EXPECT_FALSE(run.asked.count({}));
  EXPECT_EQ(run.verdict.culprits.size(), 1u);
  EXPECT_TRUE(run.verdict.culprits.count(3));
}

TEST(IsolationPlan, ChangesThatFailOnlyTogetherFallBackToThePrefixSearch) {
  World w;
  w.together = {{2, 5}};
  IsolationPlan plan(8, 4, true);
  Driven run = Drive(plan, w, 4);
  ExpectSound(run);
  // Nothing failed alone; the prefix search finds 5 turning 1..5 red.
  EXPECT_EQ(run.verdict.land, Range(1, 4));
  ASSERT_EQ(run.verdict.culprits.size(), 1u);
  EXPECT_TRUE(run.verdict.culprits.count(5));
}

TEST(IsolationPlan, AnInteractionBesideACulpritLandsOnlyAVerifiedPrefix) {
  World w;
  w.bad = {7};
  w.together = {{2, 4}};
  IsolationPlan plan(8, 4, true);
  Driven run = Drive(plan, w, 4);
  ExpectSound(run);
  EXPECT_TRUE(run.verdict.culprits.count(7));
  EXPECT_TRUE(run.verdict.culprits.count(4));
  EXPECT_EQ(run.verdict.land, Range(1, 3));  // 5, 6, 8 go back to the queue
}

TEST(IsolationPlan, AChangeThatCannotMergeAloneIsNotBlamed) {
  World w;
  w.needs = {{4, 3}};  // 4 was built on 3
  w.bad = {6};
  IsolationPlan plan(8, 4, true);
  Driven run = Drive(plan, w, 4);
  ExpectSound(run);
  EXPECT_EQ(run.verdict.culprits.size(), 1u);
  EXPECT_TRUE(run.verdict.culprits.count(6));
  EXPECT_EQ(run.verdict.land, (CheckMembers{1, 2, 3, 4, 5, 7, 8}));
}

TEST(IsolationPlan, AChangeBuiltOnACulpritGoesBackToTheQueue) {
  World w;
  w.needs = {{4, 3}};
  w.bad = {3};
  IsolationPlan plan(8, 4, true);
  Driven run = Drive(plan, w, 4);
  ExpectSound(run);
  EXPECT_TRUE(run.verdict.culprits.count(3));
  EXPECT_FALSE(run.verdict.culprits.count(4));
  EXPECT_EQ(run.verdict.land, (CheckMembers{1, 2, 5, 6, 7, 8}));
}

TEST(IsolationPlan, OneChangeIsCheckedOnce) {
  World w;
  w.bad = {1};
  IsolationPlan plan(1, 4, true);
  Driven run = Drive(plan, w, 4);
  EXPECT_EQ(run.checks, 1);
  EXPECT_TRUE(run.verdict.culprits.count(1));
}

TEST(IsolationPlan, RandomWorldsAreAlwaysSoundAndFindEveryIndependentCulprit) {
  std::mt19937 rng(20261201);
  for (int round = 0; round < 3000; ++round) {
    const int k = 1 + static_cast<int>(rng() % 32), parallel = 1 + static_cast<int>(rng() % 16);
    World w;
    for (int i = 1; i <= k; ++i)
      if (rng() % 6 == 0) w.bad.insert(i);
    const bool interactions = rng() % 3 == 0;
    if (interactions && k > 2)
      w.together.push_back({1 + static_cast<int>(rng() % k), 1 + static_cast<int>(rng() % k)});
    const bool base_green = rng() % 2 == 0;
    w.base_red = !base_green && rng() % 8 == 0;
    IsolationPlan plan(k, parallel, base_green);
    Driven run = Drive(plan, w, parallel);
    SCOPED_TRACE("k=" + std::to_string(k) + " parallel=" + std::to_string(parallel));
    ExpectSound(run);
    if (w.base_red) {
      EXPECT_TRUE(run.verdict.base_red);
      continue;
    }
    EXPECT_FALSE(run.verdict.base_red);
    if (w.together.empty() || w.together[0].first == w.together[0].second) {
      // Independent failures: exactly the bad changes are blamed, all others land.
      std::set<int> blamed;
      for (const auto& [i, m] : run.verdict.culprits) blamed.insert(i);
      std::set<int> bad = w.bad;
      if (!w.together.empty() && bad.count(w.together[0].first) == 0) bad.insert(w.together[0].first);
      EXPECT_EQ(blamed, bad);
      EXPECT_EQ(run.verdict.land.size() + blamed.size(), static_cast<size_t>(k));
    }
  }
}

}  // namespace
}  // namespace pipeline
