#include "integrate/batch_plan.h"

#include <algorithm>

namespace pipeline {

BatchPlan::BatchPlan(int k, int parallel, bool base_green) : k_(std::max(1, k)), parallel_(std::max(1, parallel)) {
  if (base_green) results_[0] = true;
}

int BatchPlan::GreenBound() const {
  int green = -1;
  int red = RedBound();
  for (const auto& [i, ok] : results_)
    if (ok && i < red) green = std::max(green, i);
  return green;
}

int BatchPlan::RedBound() const {
  for (const auto& [i, ok] : results_)
    if (!ok) return i;  // the map is ordered: the first red is the shortest
  return k_ + 1;
}

bool BatchPlan::Done() const {
  int red = RedBound();
  if (red == k_ + 1) return results_.count(k_) && results_.at(k_);  // the whole batch passed
  // Red at `red`: done once the prefix just before it is known green, or
  // the base itself is red.
  if (red == 0) return true;
  return GreenBound() == red - 1;
}

BatchVerdict BatchPlan::Verdict() const {
  BatchVerdict v;
  int red = RedBound();
  if (red == k_ + 1) {
    v.land = k_;
    return v;
  }
  if (red == 0) {
    v.base_red = true;
    v.requeue_from = 1;
    return v;
  }
  v.land = red - 1;
  v.culprit = red;
  v.requeue_from = red < k_ ? red + 1 : 0;
  return v;
}

std::vector<int> BatchPlan::NextChecks() {
  std::vector<int> next;
  if (Done()) return next;
  auto known = [&](int i) {
    return results_.count(i) > 0 || std::find(in_flight_.begin(), in_flight_.end(), i) != in_flight_.end();
  };
  int free_slots = parallel_ - static_cast<int>(in_flight_.size());
  if (free_slots <= 0) return next;
  // First the batch tip: the common case is that everything passes.
  if (!known(k_) && RedBound() == k_ + 1) {
    next.push_back(k_);
    in_flight_.push_back(k_);
    return next;
  }
  if (RedBound() == k_ + 1) return next;  // the tip's result is still awaited
  // Search (green, red): the first red prefix lies in (green, red].
  int lo = GreenBound();  // -1 when even the base is unknown
  int hi = RedBound();
  std::vector<int> open;
  for (int i = lo + 1; i < hi; ++i)
    if (!known(i)) open.push_back(i);
  if (open.empty()) return next;
  // Split the open interval into free_slots + 1 parts; check the cut points.
  int n = static_cast<int>(open.size());
  int want = std::min(free_slots, n);
  for (int j = 1; j <= want; ++j) {
    int idx = static_cast<int>((static_cast<long>(j) * n) / (want + 1));
    idx = std::clamp(idx, 0, n - 1);
    int p = open[idx];
    if (std::find(next.begin(), next.end(), p) == next.end()) next.push_back(p);
  }
  for (int p : next) in_flight_.push_back(p);
  return next;
}

void BatchPlan::Record(int prefix, bool passed) {
  if (prefix < 0 || prefix > k_) return;
  in_flight_.erase(std::remove(in_flight_.begin(), in_flight_.end(), prefix), in_flight_.end());
  results_[prefix] = passed;
}

}  // namespace pipeline
