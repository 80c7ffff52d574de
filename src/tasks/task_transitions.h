// The status-changing updates on tasks that the scheduler, the review gate
// and the merge queue make, and the few row reads they decide on. Every
// update is a compare-and-set on the task's status, so a person who moved a
// task while a run was out wins. Each runs inside db.Write, so it
// joins the caller's transaction (the scheduler moves a task, settles its
// budget and records the run in one).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "store/db.h"
#include "tasks/task.h"
#include "util/clock.h"
#include "util/status.h"

namespace pipeline {

// The task's status, or nullopt when the task does not exist.
Result<std::optional<TaskStatus>> TaskStatusOf(Db& db, const std::string& id);
// For messages: the status's name, or `missing` for a task that is gone.
std::string TaskStatusText(const std::optional<TaskStatus>& s, const char* missing);

// What the scheduler's decisions read of a task.
struct TaskCounters {
  TaskStatus status = TaskStatus::kOpen;
  int64_t retries = 0;   // failed runs on the current patchset
  int64_t patchset = 0;  // rejected patchsets so far
};
// nullopt when the task does not exist.
Result<std::optional<TaskCounters>> TaskCountersOf(Db& db, const std::string& id);

// Moves the task from `from` to `to`. Each returns false (and changes
// nothing) when the task is no longer in `from`.
Result<bool> MoveTask(Db& db, const std::string& id, TaskStatus from, TaskStatus to, Micros now);
// The same, also setting the retry counter and the back-off.
Result<bool> MoveTaskForRetry(Db& db, const std::string& id, TaskStatus from, TaskStatus to, int64_t retries,
                              Micros not_before, Micros now);

// A rejected patchset (failed verification, failed integration, a reviewer's
// "no"): the task goes back to development as patchset + 1 with retries 0,
// no back-off and `feedback` for the next run, and `comment` is added by
// `author`. Once `max_patchsets` patchsets have been rejected the task goes
// to needs-help instead, with a comment saying so, so that work which can
// never pass does not loop forever. One function for every caller, so the
// cap holds wherever a rejection comes from.
inline constexpr int64_t kDefaultMaxPatchsets = 10;  // scheduler.max_patchsets when unset
struct Rejection {
  std::string feedback;
  std::string comment;
  std::string author = "system";
  int64_t max_patchsets = kDefaultMaxPatchsets;
};
struct RejectOutcome {
  bool moved = false;        // false: the task was not in `from`; nothing changed
  bool needs_help = false;   // the cap was reached: the task is in needs-help
  int64_t patchset = 0;      // the task's patchset count after the rejection
};
Result<RejectOutcome> RejectPatchset(Db& db, const std::string& id, TaskStatus from, const Rejection& r,
                                     Micros now);

}  // namespace pipeline
