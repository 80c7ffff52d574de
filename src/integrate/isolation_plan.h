// The merge queue's plan when it has several check slots: find every
// failing change of a red batch at once, then land all the others together.
// Pure decisions (no git, no processes, no store), like batch_plan.h.
//
// A prefix search (batch_plan.h) learns only where the *first* failing
// change is: every longer prefix holds it and fails too. With three
// culprits among 32 changes that is a search per culprit, each a few rounds
// of checks, and the changes behind each culprit wait for it. Checking
// groups of the batch alone on the base tells about every group at once:
//
//   1. the batch tip (all k changes): green, all land — one check;
//   2. red: the batch is cut into up to P groups (P check slots), each group
//      checked merged alone onto the base (and the base itself, when it has
//      not been seen green since it last moved: a red base blames nobody);
//   3. a red group is cut again, among the free slots, until the change that
//      fails alone on the base is found: that change goes back to its task
//      with the output of its own check;
//   4. every change not found failing is merged onto the base in queue order
//      and that tip is checked ("compose"): green, they all land in one
//      compare-and-set.
//
// Step 4 is what keeps the result honest when changes interact (two that
// pass alone fail together): a red compose falls back to the prefix search
// over the composed changes, which lands the longest green prefix, returns
// the first change that turns it red and queues the rest again. Nothing
// lands whose exact tip was not checked.
//
// A group that cannot be merged alone onto the base (a change built on
// another change of the batch) is cut like a red one; a single change that
// cannot be merged alone is not blamed: it goes into the compose step, where
// its predecessors are present.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "integrate/batch_plan.h"

namespace pipeline {

// 1-based indexes of batch changes merged onto the base in this order;
// empty: the base alone.
using CheckMembers = std::vector<int>;
// Changes 1..n: the batch's prefix of n changes (n = k: the whole batch).
CheckMembers FirstChanges(int n);

enum class CheckOutcome { kPassed, kFailed, kUnbuildable };

struct IsolationVerdict {
  std::vector<int> land;                        // changes that land, in queue order (their checked tip)
  std::map<int, CheckMembers> culprits;         // change -> the check whose output proves it fails
  bool base_red = false;                        // the base alone fails: nothing lands, nobody is blamed
  // Every change neither landing nor a culprit goes back to the queue.
};

class IsolationPlan {
 public:
  // k >= 1 changes; parallel >= 1 check slots; base_green: the base tip was
  // seen passing since it last moved.
  IsolationPlan(int k, int parallel, bool base_green);

  // Checks to run now (at most the free slots), none already asked.
  std::vector<CheckMembers> NextChecks();
  // The result of a check NextChecks asked. kUnbuildable: the members could
  // not be merged onto the base in order; unmerged is the first that could
  // not (1-based batch index).
  void Record(const CheckMembers& members, CheckOutcome outcome, int unmerged = 0);
  bool Done() const;
  IsolationVerdict Verdict() const;  // valid once Done()

  // Whether the base was checked and passed (for the queue's green base).
  bool BaseSeenGreen() const { return base_ == State::kGreen; }

 private:
  enum class Phase { kTip, kIsolate, kCompose, kFallback, kDone };
  enum class State { kUnknown, kAsked, kGreen, kRed, kUnbuildable };
  struct Group {
    CheckMembers members;
    State state = State::kUnknown;
  };

  CheckMembers Composed() const;
  void Apply(const CheckMembers& members, CheckOutcome outcome, int unmerged);
  void StartIsolation();
  bool SplitRedGroups(int slots);
  void AfterIsolation();
  void StartCompose();
  void StartFallback();  // the prefix search over compose_, whose tip is red
  void Finish();

  int k_, parallel_;
  Phase phase_ = Phase::kTip;
  State base_;
  int in_flight_ = 0;
  int steps_ = 0;  // grows with every question and every decision (NextChecks loops until it stops)
  std::vector<Group> groups_;       // isolation: pieces of the batch not yet decided
  std::set<int> clean_, undetermined_;
  std::map<int, CheckMembers> culprits_;
  CheckMembers compose_;            // compose / fallback: the changes merged in this order
  std::unique_ptr<BatchPlan> fallback_;
  std::map<CheckMembers, CheckOutcome> known_;  // every result so far: a set is never checked twice
  IsolationVerdict verdict_;
};

}  // namespace pipeline
