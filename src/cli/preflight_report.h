// The checks before the first run (sched/preflight.h) as `pipeline run` and
// `pipeline doctor` print them.
#pragma once

#include <cstdint>
#include <cstdio>
#include <vector>

#include "cli/cli_util.h"
#include "sched/preflight.h"

namespace pipeline {

// Every check over the setup, the budget check from a read-only view of the store.
std::vector<CheckResult> PreflightFor(const SchedulerSetup& setup, const SchedulerOptions& options,
                                      int64_t default_budget_cents);

// For `pipeline run`: each problem, warning and note as one line on stderr.
// Returns 2 when there is a problem (nothing may start), else 0.
int ReportBeforeRun(const std::vector<CheckResult>& results);

}  // namespace pipeline
