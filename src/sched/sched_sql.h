// The scheduler's own queries and updates on the store: the scheduling
// columns of tasks (not_before, retries, feedback, and the patchset it bumps),
// harvest bookkeeping on runs, and the events table. Each update is a
// compare-and-set on the task's status, so a person who moved a task while a
// run was out wins (docs/protocol.md, "Finishing a task is compare-and-set").
// Callers wrap them in one Db::Write.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/db.h"
#include "util/clock.h"
#include "util/status.h"

namespace pipeline {

// Every run the scheduler starts has an id with this prefix; runs started by
// other means (`pipeline agent run`) are left to their owners.
inline constexpr const char* kSchedulerRunPrefix = "pipeline-";

Status AddEvent(Db& db, Micros at, const std::optional<std::string>& task_id,
                const std::optional<std::string>& run_id, const std::string& kind, const std::string& detail);

// harvested_at = now where it is NULL. False when another harvest won.
Result<bool> MarkHarvested(Db& db, const std::string& run_id, Micros now);
// Ended, unharvested runs of the scheduler, oldest first.
Result<std::vector<std::string>> UnharvestedEndedRuns(Db& db);

// The task's status, or nullopt when the task does not exist.
Result<std::optional<std::string>> TaskStatusOf(Db& db, const std::string& task_id);

// Moves the task from `from` to `to` setting the scheduling columns. Each
// returns false (and changes nothing) when the task is no longer in `from`.
Result<bool> MoveTask(Db& db, const std::string& id, const std::string& from, const std::string& to, Micros now);
Result<bool> MoveTaskForRetry(Db& db, const std::string& id, const std::string& from, const std::string& to,
                              int64_t retries, Micros not_before, Micros now);
// A rejected patchset: to open, patchset + 1, retries 0, feedback set.
Result<bool> RejectPatchset(Db& db, const std::string& id, const std::string& from, const std::string& feedback,
                            Micros now);

// Sum of the cost of every run of the task.
Result<double> TaskCostCents(Db& db, const std::string& id);

// A dev candidate: ready (open work task, every dependency done), past its
// back-off, with a namespace.
struct Candidate {
  std::string id, ns;
  int64_t priority = 0, seq = 0;
};
struct CandidateQuery {
  Micros now = 0;
  std::optional<std::string> parent, task_id;
  std::vector<std::string> excluded_namespaces;  // busy or refused domains
  // Keyset pagination: rows strictly after (priority, seq).
  std::optional<std::pair<int64_t, int64_t>> after;
  int limit = 32;
};
Result<std::vector<Candidate>> CandidateBatch(Db& db, const CandidateQuery& q);

// Ready tasks without a namespace (never scheduled; reported instead).
Result<std::vector<std::string>> ReadyWithoutNamespace(Db& db, int limit);

// needs-help tasks with a comment by "human" newer than the end of their last run.
Result<std::vector<std::string>> AnsweredNeedsHelp(Db& db);

// Verified tasks, oldest first, with the optional filters.
Result<std::vector<std::string>> VerifiedTasks(Db& db, const std::optional<std::string>& parent,
                                               const std::optional<std::string>& task_id, int limit);

// The earliest future not_before among open tasks (for the wake-up timer).
Result<std::optional<Micros>> NextBackoffEnd(Db& db, Micros now);

}  // namespace pipeline
