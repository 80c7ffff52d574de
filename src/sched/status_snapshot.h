// What the pipeline is doing, read from the store alone (nothing is started,
// created or changed): counts by status, active runs, budgets, recent
// failures, back-off and needs-help tasks, and what is skipped and why.
// `pipeline status` prints it; the demo draws it live.
#pragma once

#include <nlohmann/json.hpp>

#include "sched/scheduler_options.h"
#include "store/db.h"
#include "store/root.h"
#include "util/clock.h"

namespace pipeline {

// JSON with the seed's `active_runs` (arTaskId, arRunId, arDomain,
// arNamespace, arStartedAt) and `count`, plus counts, budgets, failures,
// backoff, needs_help, skipped. options supplies reserve_cents and the
// per-domain limits used to explain skips.
Result<nlohmann::json> StatusSnapshot(Db& db, const RootPaths& paths, const SchedulerOptions& options,
                                      Clock& clock);

// The human-readable form of a snapshot (several lines, ends with '\n').
std::string FormatStatus(const nlohmann::json& snapshot);

}  // namespace pipeline
