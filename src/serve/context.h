// What every handler of `pipeline serve` knows about its store: where it is,
// the scheduler options its config gives, and the base branch diffs are taken
// against. Read once at start; handlers only read it.
#pragma once

#include <cstdint>
#include <string>

#include "sched/scheduler_options.h"
#include "store/root.h"

namespace pipeline::serve {

struct ServeContext {
  RootPaths paths;
  SchedulerOptions options;
  int64_t default_budget_cents = 0;  // fund.default_budget_cents
  std::string base;                  // scheduler.base, else the repository's current branch ("" if none)
};

}  // namespace pipeline::serve
