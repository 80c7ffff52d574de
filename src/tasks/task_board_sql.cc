#include "tasks/task_board_sql.h"

#include <string>

namespace pipeline {

Result<Stmt> PrepareStoreHighWater(Db& db) {
  return db.Prepare(
      "SELECT (SELECT IFNULL(MAX(id), 0) FROM events), (SELECT IFNULL(MAX(updated_at), 0) FROM tasks), "
      "(SELECT IFNULL(MAX(ended_at), 0) FROM runs)");
}

Result<Stmt> PrepareTasksUpdatedSince(Db& db) {
  return db.Prepare("SELECT id, updated_at FROM tasks WHERE updated_at > ? ORDER BY updated_at LIMIT 1000");
}

Result<Stmt> PrepareEventsWithTasksSince(Db& db) {
  return db.Prepare(
      "SELECT e.id, e.at, e.task_id, e.run_id, e.kind, e.detail, t.status, t.title, "
      " (SELECT c.text FROM comments c WHERE c.task_id = t.id AND c.author LIKE 'agent:%' ORDER BY c.id DESC LIMIT 1) "
      "FROM events e LEFT JOIN tasks t ON t.id = e.task_id WHERE e.id > ? ORDER BY e.id LIMIT 1000");
}

// Why a needs-help task waits: the agent's question (its latest comment
// newer than the latest human one) and the latest failure. CASE evaluates
// them for needs-help rows only.
constexpr const char* kTaskBoardColumns =
    "SELECT id, title, status, priority, namespace, patchset, retries, not_before, updated_at, type, "
    " CASE WHEN status = 'needs-help' THEN "
    "  (SELECT c.text FROM comments c WHERE c.task_id = t.id AND c.author LIKE 'agent:%' "
    "    AND c.id > IFNULL((SELECT MAX(h.id) FROM comments h WHERE h.task_id = t.id AND h.author = 'human'), 0) "
    "    ORDER BY c.id DESC LIMIT 1) END, "
    " CASE WHEN status = 'needs-help' THEN "
    "  (SELECT e.detail FROM events e WHERE e.task_id = t.id AND e.kind = 'failure' ORDER BY e.id DESC LIMIT 1) END "
    "FROM tasks t ";

Result<Stmt> PrepareTaskBoardRows(Db& db) {
  return db.Prepare(std::string(kTaskBoardColumns) + "WHERE (?1 IS NULL OR status = ?1) ORDER BY seq");
}

Result<Stmt> PrepareTaskBoardRowsByIds(Db& db) {
  return db.Prepare(std::string(kTaskBoardColumns) + "WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY seq");
}

Result<Stmt> PrepareVerifiedQueue(Db& db) {
  return db.Prepare("SELECT id, title, patchset FROM tasks WHERE status = 'verified' ORDER BY seq LIMIT ?");
}

}  // namespace pipeline
