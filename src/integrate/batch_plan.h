// Which checks a batch of queued changes needs, and what the results mean:
// the pure decision part of the batched merge queue (no git, no processes,
// no store), so every bisection path is tested in microseconds.
//
// A batch is k changes c1..ck merged one after another onto the base tip B;
// prefix i is the speculative head B+c1+..+ci (prefix 0 is B itself). The
// check runs first on prefix k. Green: all k land. Red: the first red prefix
// f is searched for — the changes before it land, c_f goes back to its task
// with the check's output, c_{f+1}..c_k are queued again in order. With P
// check slots the search asks P prefixes at once (a (P+1)-ary search, the
// speculative heads of Zuul); with one slot it halves.
//
// The search assumes a change that breaks the check keeps it broken for
// every longer prefix (no later change repairs it); a prefix that passes
// says nothing about shorter ones beyond what was checked, so what lands is
// always a prefix whose own tip passed. When the base itself has not been
// seen green since it last moved, prefix 0 is part of the search: a red base
// is reported as such (nothing lands, nobody is blamed) instead of the first
// change being taken for a culprit.
#pragma once

#include <map>
#include <optional>
#include <vector>

namespace pipeline {

struct BatchVerdict {
  int land = 0;                  // prefix length that lands (0: nothing)
  std::optional<int> culprit;    // 1-based index of the change returned with feedback
  bool base_red = false;         // the base itself fails the check: land nothing, stop the queue
  int requeue_from = 0;          // changes with index >= requeue_from (1-based) go back to the queue; 0: none
};

class BatchPlan {
 public:
  // k >= 1 changes; parallel >= 1 check slots; base_green: the base tip was
  // seen passing the check since it last moved.
  BatchPlan(int k, int parallel, bool base_green);

  // Prefixes to check now (each in [0, k]), none already checked or in
  // flight. Empty while results are awaited or when Done().
  std::vector<int> NextChecks();
  // The result of checking prefix i (one of those returned by NextChecks,
  // or any prefix: a result that arrives late is used if still informative).
  void Record(int prefix, bool passed);

  bool Done() const;
  // Valid once Done().
  BatchVerdict Verdict() const;

  int checks_run() const { return static_cast<int>(results_.size()); }
  const std::map<int, bool>& results() const { return results_; }

 private:
  // Longest prefix known green (-1: none, not even the base) and shortest
  // prefix known red (k+1: none).
  int GreenBound() const;
  int RedBound() const;

  int k_;
  int parallel_;
  std::map<int, bool> results_;
  std::vector<int> in_flight_;
};

}  // namespace pipeline
