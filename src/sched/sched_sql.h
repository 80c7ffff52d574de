// The scheduler's own queries and updates on the store: harvest bookkeeping
// on runs, and the events table. The tasks table belongs to src/tasks: the
// status moves are in tasks/task_transitions.h, the scheduler's questions in
// tasks/task_queries.h (included here for the scheduler's files), and the
// candidates below are TaskStore's ready tasks. Callers wrap the updates in
// one Db::Write.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/db.h"
#include "tasks/task_queries.h"
#include "tasks/task_transitions.h"
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

// Runs that failed since `since` (failure and integrate-failed events of a
// run), not counting the runs that ended asking a person a question.
Result<int64_t> FailedRunsSince(Db& db, Micros since);
// Ended, unharvested runs of the scheduler, oldest first.
Result<std::vector<std::string>> UnharvestedEndedRuns(Db& db);

// Sum of the cost of every run of the task.
Result<double> TaskCostCents(Db& db, const std::string& id);

// A dev candidate: ready (TaskStore::Ready's definition), past its back-off,
// with a namespace.
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

}  // namespace pipeline
