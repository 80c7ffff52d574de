// The read-only statements the dashboard (src/serve) runs over tasks and
// their comments, kept here with the rest of the tasks table's SQL: each is
// prepared for the caller, which binds and steps it in its own read
// transaction. The columns each returns are listed with it.
#pragma once

#include "store/db.h"
#include "util/status.h"

namespace pipeline {

// max(events.id), max(tasks.updated_at), max(runs.ended_at): where a change
// feed starts from.
Result<Stmt> PrepareStoreHighWater(Db& db);
// ?1 = updated_at floor -> id, updated_at of tasks changed since, oldest first.
Result<Stmt> PrepareTasksUpdatedSince(Db& db);
// ?1 = event id floor -> e.id, e.at, e.task_id, e.run_id, e.kind, e.detail,
// the task's status and title, and the agent's latest comment on it.
Result<Stmt> PrepareEventsWithTasksSince(Db& db);
// ?1 = status or NULL -> id, title, status, priority, namespace, patchset,
// retries, not_before, updated_at, type, and for a needs-help task the
// agent's question (its latest comment newer than the latest human one) and
// the latest failure's detail (NULL otherwise); in creation order.
Result<Stmt> PrepareTaskBoardRows(Db& db);
// ?1 = JSON array of task ids -> the same columns for those tasks only.
Result<Stmt> PrepareTaskBoardRowsByIds(Db& db);
// ?1 = limit -> id, title, patchset of verified tasks, in creation order.
Result<Stmt> PrepareVerifiedQueue(Db& db);

}  // namespace pipeline
