// The task tracker's store: tasks, comments, dependencies and tags in the
// pipeline database. Every mutating method runs inside db.Write(...), so it is
// atomic on its own and joins the caller's transaction when called inside one
// (the scheduler claims a task and holds budget in one transaction).
// A TaskStore borrows its Db and Clock; like the Db, it is used by one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "store/db.h"
#include "tasks/task.h"
#include "util/clock.h"
#include "util/status.h"

namespace pipeline {

// The options of `task create`. Text is validated by Create.
struct NewTask {
  std::string title;
  std::string type = "work";
  std::optional<std::string> parent, ns;
  int priority = 2;
  std::optional<int> complexity;
  std::vector<std::string> deps;
  std::string description;
  std::vector<std::string> tags;
};

// `task list` filters; unset fields match everything.
struct TaskFilter {
  std::optional<TaskStatus> status;
  std::optional<std::string> ns;
  std::optional<std::string> parent;
};

// Which ready tasks to read (task_ready.cc). Ready means: an open work task
// whose dependencies are all done (a dependency on a task that does not
// exist blocks nothing). This is the one definition: `task ready`, the ready
// counts of `status` and the scheduler's choice of what to start all read it
// through TaskStore::Ready / ReadyTasks, with these filters on top.
struct ReadyFilter {
  // true: only tasks with a namespace (the scheduler's candidates); false:
  // only tasks without one; unset: both.
  std::optional<bool> with_namespace;
  std::optional<Micros> due_by;  // only tasks whose back-off ended: not_before <= due_by
  std::optional<std::string> parent, task_id;
  std::vector<std::string> excluded_namespaces;
  // Keyset pagination: only tasks strictly after (priority, seq).
  std::optional<std::pair<int64_t, int64_t>> after;
  size_t limit = 0;  // 0: all of them
};

class TaskStore {
 public:
  TaskStore(Db& db, Clock& clock);

  // Allocates "t-N" from meta.next_task_seq in the same transaction.
  Result<Task> Create(const NewTask& t);
  Result<Task> Get(const std::string& id);  // with comments, deps, tags
  Result<std::vector<Task>> List(const TaskFilter& f);  // oldest first
  // Open work tasks whose dependencies are all done: P0 first, then oldest.
  Result<std::vector<Task>> Ready();
  // The ready tasks the filter lets through, in the same order, with their
  // dependencies but without tags and comments.
  Result<std::vector<Task>> Ready(const ReadyFilter& f);

  Status SetStatus(const std::string& id, TaskStatus to);  // unconditional (protocol `update`)
  // Compare-and-set: moves id from `from` to `to`, else kRefused (kNotFound
  // for an unknown id). Safe against any number of concurrent claimers.
  Status Claim(const std::string& id, TaskStatus from, TaskStatus to);
  Result<int64_t> AddComment(const std::string& id, const std::string& text, const std::string& author);

  // Refuses unknown ids, self-dependency and cycles (the message names the cycle).
  Status AddDependency(const std::string& id, const std::string& dep);
  Status RemoveDependency(const std::string& id, const std::string& dep);

  // JSONL, one TaskToJson object per line, oldest first.
  Status Export(std::ostream& out);
  // All or nothing: every line is checked (errors name the line), ids are
  // kept, and next_task_seq moves past imported "t-N" ids.
  Status Import(std::istream& in);

 private:
  Status RequireExists(const std::string& id, const char* what = "task");
  Status Touch(const std::string& id);  // updated_at = now
  // Fills deps, tags and comments of each task (task_details.cc).
  Status LoadDetails(std::vector<Task>* tasks);
  Status LoadDeps(std::vector<Task>* tasks);
  Status LoadTags(std::vector<Task>* tasks);
  Status LoadComments(std::vector<Task>* tasks);
  // Of these distinct ids, those whose task exists and is not done (task_ready.cc).
  Result<std::vector<std::string>> NotDone(const std::vector<std::string>& ids);
  // Drops the open tasks a dependency blocks; their deps must be loaded (task_ready.cc).
  Status DropBlocked(std::vector<Task>* open);
  Result<std::vector<Task>> Query(const std::string& where_and_order, const std::vector<std::string>& binds);
  // The rows alone, without deps, tags and comments.
  Status Rows(const std::string& where_and_order, const std::vector<std::string>& binds, std::vector<Task>* out);
  Status Rows(const std::string& where_and_order, const std::function<void(Stmt&)>& bind, std::vector<Task>* out);
  // A path dep -> ... -> id through existing dependencies, empty when none.
  Result<std::vector<std::string>> PathBetween(const std::string& from, const std::string& to);
  Status InsertTask(const Task& t);  // the row and its deps, tags, comments; assigns seq

  Db& db_;
  Clock& clock_;
};

// TaskStore(db, clock).Ready(f) for callers without a clock (reading needs none).
Result<std::vector<Task>> ReadyTasks(Db& db, const ReadyFilter& f);

}  // namespace pipeline
