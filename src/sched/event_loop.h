// The scheduler's loop: it sleeps in one poll() over
//  * a pidfd per watched monitor (readable the moment a run ends: the monitor
//    writes the run's final row before it exits),
//  * an inotify watch on the root directory (another process committed: its
//    WAL write shows up there; PRAGMA data_version filters out our own),
//  * a timer for the earliest back-off end or queue retry (poll's timeout),
//  * a signalfd for SIGINT/SIGTERM: stop starting work, leave running runs to
//    their monitors, return.
// It calls Step only when one of these fired, so an idle scheduler costs
// nothing and a freed slot is refilled within milliseconds.
#pragma once

#include <functional>

#include "sched/scheduler.h"

namespace pipeline {

struct LoopOptions {
  bool until_idle = false;   // return once nothing runs and nothing can start
  double fallback_poll_s = 60;  // a step at least this often, whatever happened
};

// REQUIRES: scheduler.Recover() succeeded. after_step may be null.
// A failed step is reported to on_error and retried after 200 ms; five
// failures in a row end the loop with the last error.
Status RunLoop(Scheduler& scheduler, Db& db, const RootPaths& paths, const LoopOptions& options,
               const std::function<void(const StepResult&)>& after_step,
               const std::function<void(const Status&)>& on_error = nullptr);

// Blocks SIGINT and SIGTERM for the calling thread and returns a signalfd
// for them (-1 on failure). Called before any thread or child is started.
int BlockStopSignals();

}  // namespace pipeline
