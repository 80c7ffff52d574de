// What the pipeline is doing, read from the store alone (nothing is started,
// created or changed): counts by status, active runs, budgets, recent
// failures, back-off and needs-help tasks, and what is skipped and why.
// `pipeline status` prints it; the demo draws it live.
#pragma once

#include <nlohmann/json.hpp>

#include "sandbox/settings.h"
#include "sched/scheduler_options.h"
#include "store/db.h"
#include "store/root.h"
#include "util/clock.h"

namespace pipeline {

// JSON with the seed's `active_runs` (arTaskId, arRunId, arDomain,
// arNamespace, arStartedAt) and `count`, plus scheduler (running, pid),
// counts, ready (as `pipeline task ready` counts), budgets, recent_failures,
// events, waiting (a reason per task that is not done, sched/waiting.h),
// backoff, needs_help (with the question or reason), skipped. options
// supplies reserve_cents and the limits used to explain waiting tasks;
// default_budget_cents is fund.default_budget_cents.
//
// With sandbox (the config's [sandbox]): `sandbox` = {enabled, off: [names],
// line: "sandbox off: network (sandbox.off)" or ""}, and a task that would
// start but for sandbox.min_free_mb waits on "memory" (/proc/meminfo is read).
Result<nlohmann::json> StatusSnapshot(Db& db, const RootPaths& paths, const SchedulerOptions& options,
                                      Clock& clock, int64_t default_budget_cents = 0,
                                      const SandboxSettings* sandbox = nullptr);

// The human-readable form of a snapshot (several lines, ends with '\n'),
// for a pipe or a log: every section in full.
std::string FormatStatus(const nlohmann::json& snapshot);
// "scheduler: running (pid N)" or "scheduler: not running (...)".
std::string SchedulerLine(const nlohmann::json& snapshot);

}  // namespace pipeline
