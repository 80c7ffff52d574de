#include "tasks/task_queries.h"

namespace pipeline {

Result<std::vector<std::string>> VerifiedTasks(Db& db, const std::optional<std::string>& parent,
                                               const std::optional<std::string>& task_id, int limit) {
  std::string sql = "SELECT id FROM tasks WHERE status = 'verified' ";
  if (parent) sql += "AND parent = ?1 ";
  if (task_id) sql += "AND id = ?2 ";
  sql += "ORDER BY seq LIMIT ?3";
  PL_ASSIGN_OR_RETURN(Stmt * s, db.CachedText(sql));
  if (parent) s->Bind(1, *parent);
  if (task_id) s->Bind(2, *task_id);
  s->Bind(3, static_cast<int64_t>(limit));
  std::vector<std::string> out;
  PL_RETURN_IF_ERROR(EachRow(*s, [&](Stmt& r) { out.push_back(r.Text(0)); }));
  return out;
}

Result<std::optional<int64_t>> VerifiedPatchset(Db& db, const std::string& id) {
  Stmt& s = db.Cached("SELECT patchset FROM tasks WHERE id = ? AND status = 'verified'");
  s.BindAll(id);
  std::optional<int64_t> out;
  PL_RETURN_IF_ERROR(EachRow(s, [&](Stmt& r) { out = r.Int(0); }));
  return out;
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

Result<std::vector<std::string>> InProgressWithoutRun(Db& db) {
  Stmt& s = db.Cached(
      "SELECT id FROM tasks t WHERE t.status = 'in-progress' AND NOT EXISTS "
      "(SELECT 1 FROM runs r WHERE r.task_id = t.id AND r.harvested_at IS NULL)");
  return s.TextColumn();
}

Result<std::optional<Micros>> NextBackoffEnd(Db& db, Micros now) {
  Stmt& s = db.Cached("SELECT MIN(not_before) FROM tasks WHERE status = 'open' AND not_before > ?");
  s.BindAll(now);
  std::optional<Micros> out;
  PL_RETURN_IF_ERROR(EachRow(s, [&](Stmt& r) {
    if (!r.IsNull(0)) out = r.Int(0);
  }));
  return out;
}

Result<std::vector<BackoffTask>> TasksInBackoff(Db& db, Micros now, int limit) {
  Stmt& s = db.Cached(
      "SELECT id, not_before, retries FROM tasks WHERE status = 'open' AND not_before > ? ORDER BY not_before LIMIT ?");
  s.BindAll(now, static_cast<int64_t>(limit));
  std::vector<BackoffTask> out;
  PL_RETURN_IF_ERROR(EachRow(s, [&](Stmt& r) { out.push_back({r.Text(0), r.Int(1), r.Int(2)}); }));
  return out;
}

Result<std::vector<HelpTask>> TasksNeedingHelp(Db& db, int limit) {
  Stmt& s = db.Cached("SELECT id, title, retries FROM tasks WHERE status = 'needs-help' ORDER BY seq LIMIT ?");
  s.BindAll(static_cast<int64_t>(limit));
  std::vector<HelpTask> out;
  PL_RETURN_IF_ERROR(EachRow(s, [&](Stmt& r) { out.push_back({r.Text(0), r.Text(1), r.Int(2)}); }));
  return out;
}

Result<std::map<TaskStatus, int64_t>> CountTasksByStatus(Db& db, bool with_epics) {
  Stmt& s = db.Cached(with_epics ? "SELECT status, COUNT(*) FROM tasks GROUP BY status"
                                 : "SELECT status, COUNT(*) FROM tasks WHERE type = 'work' GROUP BY status");
  std::map<TaskStatus, int64_t> out;
  PL_RETURN_IF_ERROR(EachRow(s, [&](Stmt& r) {
    if (auto st = ParseTaskStatus(r.Text(0))) out[*st] += r.Int(1);
  }));
  return out;
}

Result<std::optional<std::string>> TaskNamespaceOf(Db& db, const std::string& id) {
  Stmt& s = db.Cached("SELECT namespace FROM tasks WHERE id = ?");
  s.BindAll(id);
  std::optional<std::string> out;
  PL_RETURN_IF_ERROR(EachRow(s, [&](Stmt& r) { out = r.OptText(0); }));
  return out;
}

Result<bool> HasAgentCommentSince(Db& db, const std::string& id, Micros since) {
  Stmt& s = db.Cached(
      "SELECT 1 FROM comments WHERE task_id = ? AND author LIKE 'agent:%' AND created_at >= ? LIMIT 1");
  s.BindAll(id, since);
  bool found = false;
  PL_RETURN_IF_ERROR(EachRow(s, [&](Stmt&) { found = true; }));
  return found;
}

}  // namespace pipeline
