#include "sched/event_loop.h"

#include <algorithm>

#include "sched/wait_loop.h"

namespace pipeline {

Result<LoopEnd> RunLoop(Scheduler& sched, Db& db, const RootPaths& paths, const LoopOptions& o,
               const std::function<void(const StepResult&)>& after_step,
               const std::function<void(const Status&)>& on_error) {
  Clock& clock = sched.clock();
  Waiter waiter;
  waiter.CatchStopSignals();
  waiter.WatchStore(paths.root);  // no watch: the fallback poll still steps
  int64_t seen_version = db.DataVersion();
  bool step_now = true;
  Micros last_step = 0;
  const Micros fallback = static_cast<Micros>(o.fallback_poll_s * 1e6);
  std::optional<Micros> next_wake;
  constexpr int kMaxFailedSteps = 5;
  int failed_steps = 0;
  while (true) {
    if (step_now) {
      auto r = sched.Step();
      last_step = clock.MonotonicNow();
      if (!r.ok()) {
        // A failing step (the store busy beyond its timeout, git failing)
        // must not end the scheduler: retry shortly, give up only when it
        // keeps failing.
        if (++failed_steps >= kMaxFailedSteps) return r.status();
        if (on_error) on_error(r.status());
        auto w = waiter.Wait(nullptr, 200'000);
        if (w.ok() && w->stop) return LoopEnd::kStopped;
        continue;
      }
      failed_steps = 0;
      seen_version = db.DataVersion();
      next_wake = r->next_wake;
      if (after_step) after_step(*r);
      if (o.until_idle && r->active == 0 && r->started == 0 && r->harvested == 0 && r->reopened == 0 &&
          !r->more && !next_wake)
        return LoopEnd::kIdle;
      // Something happened: step again at once, since its effects (a freed
      // slot, a reopened task) may allow more work.
      step_now = r->harvested > 0 || r->started > 0 || r->reopened > 0;
      if (step_now) continue;
    }
    // How long to sleep: the next timer, the fallback poll, or the
    // launcher's poll period when a run cannot be watched.
    Micros wait = fallback - (clock.MonotonicNow() - last_step);
    if (next_wake) wait = std::min(wait, *next_wake - clock.Now());
    if (auto every = sched.launcher().PollEvery()) wait = std::min(wait, *every);
    if (wait <= 0) {
      step_now = true;
      continue;
    }
    auto w = waiter.Wait(&sched.launcher(), wait);
    if (!w.ok()) return w.status();
    if (w->stop) return LoopEnd::kStopped;  // SIGINT/SIGTERM: leave the runs to their workers
    if (w->timeout || !w->ended.empty()) step_now = true;  // a timer is due, or a run ended
    if (w->store && db.DataVersion() != seen_version) step_now = true;
  }
}

}  // namespace pipeline
