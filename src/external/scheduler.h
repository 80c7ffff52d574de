// The scheduler driving external `task`, `fund` and `agentd` programs with
// the `task`/`fund`/`agentd` protocol (docs/protocol.md), for stores that live
// elsewhere. Its own bookkeeping (which runs it started, what it charged)
// lives in this root's store, written before each external call that
// changes something, so a crash neither orphans a run nor charges one twice.
// See docs/scheduler.md, "External backends".
#pragma once

#include <functional>

#include "sched/scheduler.h"
#include "sched/scheduler_options.h"
#include "store/root.h"

namespace pipeline {

// Runs until SIGINT/SIGTERM (or one step with --once / --dry-run, or until
// idle). Returns the process exit code.
int RunExternal(const SchedulerOptions& options, const RootPaths& paths,
                const std::function<void(const SchedEvent&)>& on_event);

}  // namespace pipeline
