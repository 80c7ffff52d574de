// The read side of the JSON API: what `status`, `task`, `fund`, `agent` and
// the queue show, as JSON documents. Each reads one consistent state (one
// read transaction) and changes nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "serve/context.h"
#include "store/db.h"
#include "util/clock.h"
#include "util/status.h"

namespace pipeline::serve {

// GET /api/status: the status snapshot (`pipeline status --json`).
Result<nlohmann::json> StatusView(Db& db, const ServeContext& ctx, Clock& clock);

// GET /api/tasks is in task_list.h.

// GET /api/tasks/{id}: the task (protocol JSON plus the scheduler's columns),
// its timeline (comments and events merged by time), runs, cost, question,
// and the diff of its branch against the base (`git diff base...branch`,
// capped at max_diff_bytes). REQUIRES: id passed ValidateTaskIdForPath.
Result<nlohmann::json> TaskDetailView(Db& db, const ServeContext& ctx, const std::string& id, size_t max_diff_bytes);

// GET /api/runs/{id}: the run record (agentd status JSON plus ours).
Result<nlohmann::json> RunView(Db& db, const std::string& run_id);

// GET /api/runs/{id}/log?offset=N&stream=stdout|stderr: up to max_bytes of
// the run's log from offset: {text, offset, next_offset, size, active}. When
// the file is shorter than offset (a capped log rewrote its tail) the read
// restarts at 0 with `reset: true`.
Result<nlohmann::json> RunLogView(Db& db, const std::string& run_id, const std::string& stream, int64_t offset,
                                  int64_t max_bytes);

// GET /api/budgets: every domain's budget, held, spent, remaining, blocked
// and paused flags.
Result<nlohmann::json> BudgetsView(Db& db, const ServeContext& ctx, Clock& clock);

// GET /api/queue: the dev queue (ready tasks, in the order the scheduler
// takes them, at most limit) and the merge queue (verified tasks, oldest
// first) with the active integrate runs. Each task carries `wait` and `why`:
// what it waits for, as `pipeline status` says it.
Result<nlohmann::json> QueueView(Db& db, const ServeContext& ctx, Clock& clock, int limit);

}  // namespace pipeline::serve
