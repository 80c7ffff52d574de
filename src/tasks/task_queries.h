// Read-only questions about tasks that the scheduler, `status` and the demo
// ask of the store, each one query. Some join the runs table: which tasks
// wait for an answer or lost their run depends on the task's runs, and the
// tasks table is read here alone. Each reads inside the caller's transaction
// when there is one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/db.h"
#include "tasks/task.h"
#include "util/clock.h"
#include "util/status.h"

namespace pipeline {

// Verified tasks, oldest first, with the optional filters.
Result<std::vector<std::string>> VerifiedTasks(Db& db, const std::optional<std::string>& parent,
                                               const std::optional<std::string>& task_id, int limit);
// The patchset of a task that is verified; nullopt when it is not (or is gone).
Result<std::optional<int64_t>> VerifiedPatchset(Db& db, const std::string& id);

// needs-help tasks that had a run and have a comment by "human" newer than
// the end of their last run, oldest first.
Result<std::vector<std::string>> AnsweredNeedsHelp(Db& db);

// in-progress tasks without an unharvested run: claims whose run was never
// recorded (the scheduler died between its transactions).
Result<std::vector<std::string>> InProgressWithoutRun(Db& db);

// The earliest future not_before among open tasks (for the wake-up timer).
Result<std::optional<Micros>> NextBackoffEnd(Db& db, Micros now);

// Open tasks in back-off (not_before > now), soonest first.
struct BackoffTask {
  std::string id;
  Micros not_before = 0;
  int64_t retries = 0;
};
Result<std::vector<BackoffTask>> TasksInBackoff(Db& db, Micros now, int limit);

// needs-help tasks, oldest first.
struct HelpTask {
  std::string id, title;
  int64_t retries = 0;
};
Result<std::vector<HelpTask>> TasksNeedingHelp(Db& db, int limit);

// How many tasks are in each status (statuses without tasks are absent);
// work tasks only unless with_epics.
Result<std::map<TaskStatus, int64_t>> CountTasksByStatus(Db& db, bool with_epics);

// The task's namespace; nullopt when it has none or does not exist.
Result<std::optional<std::string>> TaskNamespaceOf(Db& db, const std::string& id);

// Whether an "agent:*" comment was added to the task at or after `since`
// (how a run that asked a question is told from one that just stopped).
Result<bool> HasAgentCommentSince(Db& db, const std::string& id, Micros since);

}  // namespace pipeline
