#include "sched/sched_sql.h"

#include "sched/transitions.h"

#include "tasks/task_store.h"

namespace pipeline {

namespace {

Result<int> RunUpdate(Db& db, Stmt& s) {
  PL_RETURN_IF_ERROR(s.Run());
  return db.Changes();
}

}  // namespace

Status AddEvent(Db& db, Micros at, const std::optional<std::string>& task_id,
                const std::optional<std::string>& run_id, const std::string& kind, const std::string& detail) {
  Stmt& s = db.Cached("INSERT INTO events (at, task_id, run_id, kind, detail) VALUES (?, ?, ?, ?, ?)");
  s.BindAll(at, task_id, run_id, kind, detail);
  return s.Run();
}

Result<bool> MarkHarvested(Db& db, const std::string& run_id, Micros now) {
  Stmt& s = db.Cached("UPDATE runs SET harvested_at = ? WHERE run_id = ? AND harvested_at IS NULL");
  s.BindAll(now, run_id);
  PL_ASSIGN_OR_RETURN(int n, RunUpdate(db, s));
  return n == 1;
}

Result<std::vector<std::string>> UnharvestedEndedRuns(Db& db) {
  Stmt& s = db.Cached(
      "SELECT run_id FROM runs WHERE harvested_at IS NULL AND status NOT IN ('starting', 'running') "
      "AND substr(run_id, 1, 9) = 'pipeline-' ORDER BY created_at, run_id");
  return s.TextColumn();
}

Result<double> TaskCostCents(Db& db, const std::string& id) {
  Stmt& s = db.Cached("SELECT IFNULL(SUM(cost_cents), 0) FROM runs WHERE task_id = ?");
  s.BindAll(id);
  PL_ASSIGN_OR_RETURN(bool row, s.Step());
  double v = row ? s.Double(0) : 0;
  s.Reset();
  return v;
}

Result<std::vector<Candidate>> CandidateBatch(Db& db, const CandidateQuery& q) {
  ReadyFilter f;
  f.with_namespace = true;
  f.due_by = q.now;
  f.parent = q.parent;
  f.task_id = q.task_id;
  f.excluded_namespaces = q.excluded_namespaces;
  f.after = q.after;
  f.limit = static_cast<size_t>(q.limit > 0 ? q.limit : 1);
  PL_ASSIGN_OR_RETURN(std::vector<Task> ready, ReadyTasks(db, f));
  std::vector<Candidate> out;
  out.reserve(ready.size());
  for (const Task& t : ready) out.push_back({t.id, t.ns.value_or(""), t.priority, t.seq});
  return out;
}

Result<int64_t> FailedRunsSince(Db& db, Micros since) {
  Stmt& s = db.Cached(
      "SELECT COUNT(*) FROM events WHERE kind IN ('failure', 'integrate-failed') AND run_id IS NOT NULL AND at >= ? "
      "AND IFNULL(detail, '') <> ?");
  s.BindAll(since, std::string(NextStepName(NextStep::kNeedsHelp)) + ": " + kAskedAQuestion);
  PL_ASSIGN_OR_RETURN(bool row, s.Step());
  int64_t n = row ? s.Int(0) : 0;
  s.Reset();
  return n;
}

Result<std::vector<std::string>> ReadyWithoutNamespace(Db& db, int limit) {
  ReadyFilter f;
  f.with_namespace = false;
  f.limit = static_cast<size_t>(limit > 0 ? limit : 1);
  PL_ASSIGN_OR_RETURN(std::vector<Task> ready, ReadyTasks(db, f));
  std::vector<std::string> out;
  out.reserve(ready.size());
  for (const Task& t : ready) out.push_back(t.id);
  return out;
}

}  // namespace pipeline
