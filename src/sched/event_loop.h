// The scheduler's loop: it sleeps in the one wait (wait_loop.h) over
//  * the launcher's descriptors (a pidfd per watched monitor, readable the
//    moment a run ends: the monitor writes the run's final row before it
//    exits), and the launcher's poll period for runs it cannot watch,
//  * an inotify watch on the root directory (another process committed: its
//    WAL write shows up there; PRAGMA data_version filters out our own),
//  * a timer for the earliest back-off end or queue retry,
//  * a signalfd for SIGINT/SIGTERM: stop starting work, leave running runs to
//    their workers, return.
// Time is read from the scheduler's clock.
// It calls Step only when one of these fired, so an idle scheduler costs
// nothing and a freed slot is refilled within milliseconds.
#pragma once

#include <functional>

#include "sched/scheduler.h"
#include "sched/wait_loop.h"

namespace pipeline {

struct LoopOptions {
  bool until_idle = false;   // return once nothing runs and nothing can start
  double fallback_poll_s = 60;  // a step at least this often, whatever happened
};

// Why the loop returned.
enum class LoopEnd {
  kIdle,     // until_idle, and nothing runs or can start
  kStopped,  // SIGINT or SIGTERM
};

// REQUIRES: scheduler.Recover() succeeded. after_step may be null.
// A failed step is reported to on_error and retried after 200 ms; five
// failures in a row end the loop with the last error.
Result<LoopEnd> RunLoop(Scheduler& scheduler, Db& db, const RootPaths& paths, const LoopOptions& options,
               const std::function<void(const StepResult&)>& after_step,
               const std::function<void(const Status&)>& on_error = nullptr);

}  // namespace pipeline
