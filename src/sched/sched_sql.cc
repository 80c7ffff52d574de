#include "sched/sched_sql.h"

#include <nlohmann/json.hpp>

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

Result<std::optional<std::string>> TaskStatusOf(Db& db, const std::string& task_id) {
  Stmt& s = db.Cached("SELECT status FROM tasks WHERE id = ?");
  s.BindAll(task_id);
  PL_ASSIGN_OR_RETURN(bool row, s.Step());
  std::optional<std::string> out;
  if (row) out = s.Text(0);
  s.Reset();
  return out;
}

Result<bool> MoveTask(Db& db, const std::string& id, const std::string& from, const std::string& to, Micros now) {
  Stmt& s = db.Cached("UPDATE tasks SET status = ?, updated_at = ? WHERE id = ? AND status = ?");
  s.BindAll(to, now, id, from);
  PL_ASSIGN_OR_RETURN(int n, RunUpdate(db, s));
  return n == 1;
}

Result<bool> MoveTaskForRetry(Db& db, const std::string& id, const std::string& from, const std::string& to,
                              int64_t retries, Micros not_before, Micros now) {
  Stmt& s = db.Cached(
      "UPDATE tasks SET status = ?, retries = ?, not_before = ?, updated_at = ? WHERE id = ? AND status = ?");
  s.BindAll(to, retries, not_before, now, id, from);
  PL_ASSIGN_OR_RETURN(int n, RunUpdate(db, s));
  return n == 1;
}

Result<bool> RejectPatchset(Db& db, const std::string& id, const std::string& from, const std::string& feedback,
                            Micros now) {
  Stmt& s = db.Cached(
      "UPDATE tasks SET status = 'open', patchset = patchset + 1, retries = 0, not_before = 0, feedback = ?, "
      "updated_at = ? WHERE id = ? AND status = ?");
  s.BindAll(feedback, now, id, from);
  PL_ASSIGN_OR_RETURN(int n, RunUpdate(db, s));
  return n == 1;
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
  // The (status, priority, seq) index walks open tasks in scheduling order;
  // LIMIT keeps the step's cost independent of the backlog's size.
  std::string sql =
      "SELECT t.id, t.namespace, t.priority, t.seq FROM tasks t "
      "WHERE t.status = 'open' AND t.type = 'work' AND t.namespace IS NOT NULL AND t.not_before <= ?1 "
      "AND NOT EXISTS (SELECT 1 FROM task_deps d JOIN tasks u ON u.id = d.depends_on "
      "                WHERE d.task_id = t.id AND u.status != 'done') "
      "AND t.namespace NOT IN (SELECT value FROM json_each(?2)) ";
  if (q.parent) sql += "AND t.parent = ?3 ";
  if (q.task_id) sql += "AND t.id = ?4 ";
  if (q.after) sql += "AND (t.priority > ?5 OR (t.priority = ?5 AND t.seq > ?6)) ";
  sql += "ORDER BY t.priority, t.seq LIMIT ?7";
  PL_ASSIGN_OR_RETURN(Stmt s, db.Prepare(sql));
  s.Bind(1, q.now);
  s.Bind(2, nlohmann::json(q.excluded_namespaces).dump());
  if (q.parent) s.Bind(3, *q.parent);
  if (q.task_id) s.Bind(4, *q.task_id);
  if (q.after) {
    s.Bind(5, q.after->first);
    s.Bind(6, q.after->second);
  }
  s.Bind(7, static_cast<int64_t>(q.limit));
  std::vector<Candidate> out;
  while (true) {
    PL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back({s.Text(0), s.Text(1), s.Int(2), s.Int(3)});
  }
  return out;
}

Result<std::vector<std::string>> ReadyWithoutNamespace(Db& db, int limit) {
  Stmt& s = db.Cached(
      "SELECT id FROM tasks WHERE status = 'open' AND type = 'work' AND namespace IS NULL ORDER BY seq LIMIT ?");
  s.BindAll(static_cast<int64_t>(limit));
  return s.TextColumn();
}

Result<std::vector<std::string>> AnsweredNeedsHelp(Db& db) {
  Stmt& s = db.Cached(
      "SELECT t.id FROM tasks t WHERE t.status = 'needs-help' "
      "AND EXISTS (SELECT 1 FROM runs r WHERE r.task_id = t.id) "
      "AND EXISTS (SELECT 1 FROM comments c WHERE c.task_id = t.id AND c.author = 'human' "
      "  AND c.created_at > (SELECT MAX(IFNULL(r.ended_at, r.created_at)) FROM runs r WHERE r.task_id = t.id)) "
      "ORDER BY t.seq");
  return s.TextColumn();
}

Result<std::vector<std::string>> VerifiedTasks(Db& db, const std::optional<std::string>& parent,
                                               const std::optional<std::string>& task_id, int limit) {
  std::string sql = "SELECT id FROM tasks WHERE status = 'verified' ";
  if (parent) sql += "AND parent = ?1 ";
  if (task_id) sql += "AND id = ?2 ";
  sql += "ORDER BY seq LIMIT ?3";
  PL_ASSIGN_OR_RETURN(Stmt s, db.Prepare(sql));
  if (parent) s.Bind(1, *parent);
  if (task_id) s.Bind(2, *task_id);
  s.Bind(3, static_cast<int64_t>(limit));
  std::vector<std::string> out;
  while (true) {
    PL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(s.Text(0));
  }
  return out;
}

Result<std::optional<Micros>> NextBackoffEnd(Db& db, Micros now) {
  Stmt& s = db.Cached("SELECT MIN(not_before) FROM tasks WHERE status = 'open' AND not_before > ?");
  s.BindAll(now);
  PL_ASSIGN_OR_RETURN(bool row, s.Step());
  std::optional<Micros> out;
  if (row && !s.IsNull(0)) out = s.Int(0);
  s.Reset();
  return out;
}

}  // namespace pipeline
