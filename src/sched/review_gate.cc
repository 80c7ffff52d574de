#include "sched/review_gate.h"

#include "tasks/task_store.h"
#include "util/text.h"

namespace pipeline {
namespace {

// Why a task is not reviewable, read inside the refused transaction.
Error NotInReview(TaskStore& store, const std::string& id, const char* verb) {
  auto t = store.Get(id);
  if (!t.ok()) return t.error();
  return Refused(std::string("cannot ") + verb + " task " + id + ": it is " + TaskStatusName(t->status) +
                 ", not review");
}

}  // namespace

Result<Task> ApproveTask(Db& db, Clock& clock, const std::string& id, const std::string& author) {
  PL_RETURN_IF_ERROR(ValidateAuthor(author));
  TaskStore store(db, clock);
  Task out;
  PL_RETURN_IF_ERROR(db.Write([&]() -> Status {
    Status st = store.Claim(id, TaskStatus::kReview, TaskStatus::kVerified);
    if (!st.ok()) return st.kind() == ErrorKind::kRefused ? Status(NotInReview(store, id, "approve")) : st;
    PL_RETURN_IF_ERROR(store.AddComment(id, "Approved by " + author, author));
    PL_ASSIGN_OR_RETURN(out, store.Get(id));
    return Status::Ok();
  }));
  return out;
}

Result<Task> RejectTask(Db& db, Clock& clock, const std::string& id, const std::string& why,
                        const std::string& author, int64_t max_patchsets) {
  PL_RETURN_IF_ERROR(ValidateAuthor(author));
  if (Trim(why).empty()) return InvalidArgument("a rejection needs a reason");
  PL_RETURN_IF_ERROR(ValidateText("reason", why));
  TaskStore store(db, clock);
  Task out;
  PL_RETURN_IF_ERROR(db.Write([&]() -> Status {
    PL_ASSIGN_OR_RETURN(RejectOutcome rejected,
                        RejectPatchset(db, id, TaskStatus::kReview,
                                       {why, "Rejected by " + author + ": " + why, author, max_patchsets}, clock.Now()));
    if (!rejected.moved) return NotInReview(store, id, "reject");
    PL_ASSIGN_OR_RETURN(out, store.Get(id));
    return Status::Ok();
  }));
  return out;
}

}  // namespace pipeline
