#include "integrate/isolation_plan.h"

#include <algorithm>

namespace pipeline {

namespace {

// Cuts members into `parts` contiguous pieces of near-equal size.
std::vector<CheckMembers> Cut(const CheckMembers& members, int parts) {
  const int n = static_cast<int>(members.size());
  parts = std::clamp(parts, 1, std::max(1, n));
  std::vector<CheckMembers> out;
  for (int p = 0; p < parts; ++p) {
    int from = static_cast<int>(static_cast<long>(p) * n / parts);
    int to = static_cast<int>(static_cast<long>(p + 1) * n / parts);
    if (from < to) out.emplace_back(members.begin() + from, members.begin() + to);
  }
  return out;
}

}  // namespace

CheckMembers FirstChanges(int n) {
  CheckMembers m;
  for (int i = 1; i <= n; ++i) m.push_back(i);
  return m;
}

IsolationPlan::IsolationPlan(int k, int parallel, bool base_green)
    : k_(std::max(1, k)), parallel_(std::max(1, parallel)), base_(base_green ? State::kGreen : State::kUnknown) {}

CheckMembers IsolationPlan::Composed() const {
  std::set<int> in(clean_.begin(), clean_.end());
  in.insert(undetermined_.begin(), undetermined_.end());
  return CheckMembers(in.begin(), in.end());
}

bool IsolationPlan::Done() const { return phase_ == Phase::kDone; }

IsolationVerdict IsolationPlan::Verdict() const { return verdict_; }

std::vector<CheckMembers> IsolationPlan::NextChecks() {
  std::vector<CheckMembers> next;
  // A set whose result is already known is answered here, without a check
  // (the tip of a one-change batch is that change alone on the base).
  auto ask = [&](const CheckMembers& m) {
    auto known = known_.find(m);
    if (known != known_.end()) {
      Apply(m, known->second, 0);
    } else {
      next.push_back(m);
      ++in_flight_;
    }
    ++steps_;
  };
  auto unasked = [&] {
    return std::any_of(groups_.begin(), groups_.end(), [](const Group& g) { return g.state == State::kUnknown; });
  };
  // Each pass asks what the current phase can; an answer known already, a
  // cut or a phase change makes another pass worthwhile.
  for (int before = -1; before != steps_ && !Done();) {
    before = steps_;
    const int free = parallel_ - in_flight_;
    switch (phase_) {
      case Phase::kTip:
        if (in_flight_ == 0) ask(FirstChanges(k_));
        break;
      case Phase::kIsolate: {
        int room = free;
        if (room > 0 && base_ == State::kUnknown) {
          base_ = State::kAsked;
          ask({});
          --room;
        }
        for (size_t i = 0; i < groups_.size() && room > 0 && phase_ == Phase::kIsolate; ++i) {
          if (groups_[i].state != State::kUnknown) continue;
          groups_[i].state = State::kAsked;
          ask(CheckMembers(groups_[i].members));  // a copy: Apply may change groups_
          --room;
        }
        if (phase_ != Phase::kIsolate) break;
        if (room > 0 && !unasked() && SplitRedGroups(room)) {
          ++steps_;
        } else if (groups_.empty() && in_flight_ == 0 && base_ != State::kAsked) {
          AfterIsolation();
          ++steps_;
        }
        break;
      }
      case Phase::kCompose:
        if (in_flight_ == 0) ask(compose_);
        break;
      case Phase::kFallback:
        if (free > 0)
          for (int p : fallback_->NextChecks()) ask(CheckMembers(compose_.begin(), compose_.begin() + p));
        break;
      case Phase::kDone:
        break;
    }
  }
  return next;
}

void IsolationPlan::Record(const CheckMembers& members, CheckOutcome outcome, int unmerged) {
  if (in_flight_ > 0) --in_flight_;
  if (outcome != CheckOutcome::kUnbuildable) known_[members] = outcome;
  Apply(members, outcome, unmerged);
}

void IsolationPlan::Apply(const CheckMembers& members, CheckOutcome outcome, int unmerged) {
  const bool passed = outcome == CheckOutcome::kPassed;
  switch (phase_) {
    case Phase::kTip:
      if (members != FirstChanges(k_)) return;
      if (passed) {
        verdict_.land = members;
        Finish();
      } else {
        StartIsolation();
      }
      return;
    case Phase::kIsolate: {
      if (members.empty()) {
        base_ = passed ? State::kGreen : State::kRed;
        if (!passed) {
          verdict_ = IsolationVerdict{};
          verdict_.base_red = true;
          Finish();
        }
        return;
      }
      for (Group& g : groups_) {
        if (g.members != members || g.state != State::kAsked) continue;
        if (passed) {
          g.state = State::kGreen;
          clean_.insert(members.begin(), members.end());
          break;
        }
        const bool failed = outcome == CheckOutcome::kFailed;
        g.state = failed ? State::kRed : State::kUnbuildable;
        // One change: failing alone on the base blames it; not merging
        // alone does not (it needs the changes it was built on).
        if (members.size() == 1) {
          if (failed) culprits_[members[0]] = members;
          else undetermined_.insert(members[0]);
        }
        break;
      }
      // Decided groups of one change, and green groups, leave the list.
      groups_.erase(std::remove_if(groups_.begin(), groups_.end(),
                                   [](const Group& g) {
                                     return g.state == State::kGreen ||
                                            (g.members.size() == 1 && g.state != State::kUnknown && g.state != State::kAsked);
                                   }),
                    groups_.end());
      if (groups_.empty() && in_flight_ == 0 && base_ != State::kAsked) AfterIsolation();
      return;
    }
    case Phase::kCompose:
      if (members != compose_) return;
      if (passed) {
        verdict_.land = compose_;
        Finish();
      } else if (outcome == CheckOutcome::kUnbuildable) {
        // A change that merged alone no longer merges without a culprit
        // (it was built on it): it goes back to the queue, the rest is
        // composed again.
        compose_.erase(std::remove(compose_.begin(), compose_.end(), unmerged), compose_.end());
        if (unmerged == 0 || compose_.empty()) compose_.clear();
        StartCompose();
      } else {
        StartFallback();
      }
      return;
    case Phase::kFallback: {
      const int p = static_cast<int>(members.size());
      if (p > static_cast<int>(compose_.size()) || !std::equal(members.begin(), members.end(), compose_.begin())) return;
      fallback_->Record(p, passed);
      if (fallback_->Done()) Finish();
      return;
    }
    case Phase::kDone:
      return;
  }
}

void IsolationPlan::StartIsolation() {
  phase_ = Phase::kIsolate;
  int slots = parallel_ - in_flight_ - (base_ == State::kUnknown ? 1 : 0);
  for (CheckMembers& m : Cut(FirstChanges(k_), std::max(2, slots))) groups_.push_back({std::move(m), State::kUnknown});
}

bool IsolationPlan::SplitRedGroups(int slots) {
  // The red (or unmergeable) groups of more than one change, in queue order.
  std::vector<size_t> red;
  for (size_t i = 0; i < groups_.size(); ++i)
    if ((groups_[i].state == State::kRed || groups_[i].state == State::kUnbuildable) && groups_[i].members.size() > 1)
      red.push_back(i);
  if (red.empty()) return false;
  // Each red group is cut in two at least; the slots left go, one at a time,
  // to the group with the most changes per piece.
  slots = std::max(slots, 2);
  std::map<size_t, int> parts;
  int used = 0;
  for (size_t i : red) {
    if (used + 2 > slots && !parts.empty()) break;
    parts[i] = 2;
    used += 2;
  }
  while (used < slots) {
    size_t best = groups_.size();
    double best_size = 1.0;
    for (auto& [i, n] : parts) {
      double per = double(groups_[i].members.size()) / n;
      if (n < static_cast<int>(groups_[i].members.size()) && per > best_size) {
        best = i;
        best_size = per;
      }
    }
    if (best == groups_.size()) break;
    ++parts[best];
    ++used;
  }
  std::vector<Group> next;
  for (size_t i = 0; i < groups_.size(); ++i) {
    auto cut = parts.find(i);
    if (cut == parts.end()) {
      next.push_back(std::move(groups_[i]));
      continue;
    }
    for (CheckMembers& m : Cut(groups_[i].members, cut->second)) next.push_back({std::move(m), State::kUnknown});
  }
  groups_ = std::move(next);
  return true;
}

void IsolationPlan::AfterIsolation() {
  if (phase_ != Phase::kIsolate) return;
  compose_ = Composed();
  StartCompose();
}

void IsolationPlan::StartCompose() {
  phase_ = Phase::kCompose;
  if (compose_.empty()) {
    Finish();  // every change failed alone (or could not merge): nothing to land
    return;
  }
  // Nothing failed alone, yet the whole batch is red: the changes fail
  // together. The prefix search finds where.
  if (compose_ == FirstChanges(k_)) StartFallback();
}

void IsolationPlan::StartFallback() {
  // The composed tip is known red: the search starts from there.
  const int n = static_cast<int>(compose_.size());
  fallback_ = std::make_unique<BatchPlan>(n, parallel_, base_ == State::kGreen);
  fallback_->Record(n, false);
  phase_ = Phase::kFallback;
  if (fallback_->Done()) Finish();
}

void IsolationPlan::Finish() {
  if (fallback_ && fallback_->Done()) {
    BatchVerdict v = fallback_->Verdict();
    if (v.base_red) {
      verdict_ = IsolationVerdict{};
      verdict_.base_red = true;
    } else {
      verdict_.land.assign(compose_.begin(), compose_.begin() + v.land);
      if (v.culprit) verdict_.culprits[compose_[*v.culprit - 1]] = CheckMembers(compose_.begin(), compose_.begin() + *v.culprit);
    }
  }
  if (!verdict_.base_red)
    for (auto& [i, m] : culprits_) verdict_.culprits[i] = m;
  phase_ = Phase::kDone;
}

}  // namespace pipeline
