#include "tasks/task_transitions.h"

#include <string>

namespace pipeline {

namespace {

// The store holds the canonical names (task.cc); anything else reads as open.
TaskStatus StatusFromRow(const std::string& s) { return ParseTaskStatus(s).value_or(TaskStatus::kOpen); }

// REQUIRES: text and author were validated.
Status AddCommentAt(Db& db, const std::string& id, const std::string& text, const std::string& author, Micros now) {
  return db.Cached("INSERT INTO comments (task_id, text, author, created_at) VALUES (?, ?, ?, ?)")
      .BindAll(id, text, author, now)
      .Run();
}

}  // namespace

Result<std::optional<TaskStatus>> TaskStatusOf(Db& db, const std::string& id) {
  Stmt& s = db.Cached("SELECT status FROM tasks WHERE id = ?");
  s.BindAll(id);
  PL_ASSIGN_OR_RETURN(bool row, s.Step());
  std::optional<TaskStatus> out;
  if (row) out = StatusFromRow(s.Text(0));
  s.Reset();
  return out;
}

std::string TaskStatusText(const std::optional<TaskStatus>& s, const char* missing) {
  return s ? TaskStatusName(*s) : missing;
}

Result<std::optional<TaskCounters>> TaskCountersOf(Db& db, const std::string& id) {
  Stmt& s = db.Cached("SELECT status, retries, patchset FROM tasks WHERE id = ?");
  s.BindAll(id);
  PL_ASSIGN_OR_RETURN(bool row, s.Step());
  std::optional<TaskCounters> out;
  if (row) out = TaskCounters{StatusFromRow(s.Text(0)), s.Int(1), s.Int(2)};
  s.Reset();
  return out;
}

Result<bool> MoveTask(Db& db, const std::string& id, TaskStatus from, TaskStatus to, Micros now) {
  bool moved = false;
  PL_RETURN_IF_ERROR(db.Write([&]() -> Status {
    PL_RETURN_IF_ERROR(db.Cached("UPDATE tasks SET status = ?, updated_at = ? WHERE id = ? AND status = ?")
                           .BindAll(TaskStatusName(to), now, id, TaskStatusName(from))
                           .Run());
    moved = db.Changes() == 1;
    return Status::Ok();
  }));
  return moved;
}

Result<bool> MoveTaskForRetry(Db& db, const std::string& id, TaskStatus from, TaskStatus to, int64_t retries,
                              Micros not_before, Micros now) {
  bool moved = false;
  PL_RETURN_IF_ERROR(db.Write([&]() -> Status {
    PL_RETURN_IF_ERROR(
        db.Cached("UPDATE tasks SET status = ?, retries = ?, not_before = ?, updated_at = ? WHERE id = ? AND status = ?")
            .BindAll(TaskStatusName(to), retries, not_before, now, id, TaskStatusName(from))
            .Run());
    moved = db.Changes() == 1;
    return Status::Ok();
  }));
  return moved;
}

Result<RejectOutcome> RejectPatchset(Db& db, const std::string& id, TaskStatus from, const Rejection& r,
                                     Micros now) {
  PL_RETURN_IF_ERROR(ValidateText("comment", r.comment));
  PL_RETURN_IF_ERROR(ValidateAuthor(r.author));
  RejectOutcome out;
  PL_RETURN_IF_ERROR(db.Write([&]() -> Status {
    // One update: the new patchset decides between open and needs-help.
    PL_RETURN_IF_ERROR(
        db.Cached("UPDATE tasks SET status = CASE WHEN patchset + 1 >= ?1 THEN ?2 ELSE ?3 END, "
                  "patchset = patchset + 1, retries = 0, not_before = 0, feedback = ?4, updated_at = ?5 "
                  "WHERE id = ?6 AND status = ?7")
            .BindAll(r.max_patchsets, TaskStatusName(TaskStatus::kNeedsHelp), TaskStatusName(TaskStatus::kOpen),
                     r.feedback, now, id, TaskStatusName(from))
            .Run());
    if (db.Changes() != 1) return Status::Ok();
    out.moved = true;
    PL_ASSIGN_OR_RETURN(std::optional<TaskCounters> now_row, TaskCountersOf(db, id));
    if (now_row) {
      out.patchset = now_row->patchset;
      out.needs_help = now_row->status == TaskStatus::kNeedsHelp;
    }
    PL_RETURN_IF_ERROR(AddCommentAt(db, id, r.comment, r.author, now));
    if (!out.needs_help) return Status::Ok();
    return AddCommentAt(db, id,
                        "Pipeline: " + std::to_string(out.patchset) + " patchsets were rejected (limit " +
                            std::to_string(r.max_patchsets) + "); needs help",
                        "system", now);
  }));
  return out;
}

}  // namespace pipeline
