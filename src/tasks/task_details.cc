// The side tables of a task (dependencies, tags, comments), read for a list of
// tasks. Three ways, by what is cheaper: a few tasks look their rows up one by
// one; many tasks against a small table scan the whole table; many tasks
// against a large table (comments pile up on done tasks) look up just their
// own rows through one IN list. A lookup costs about as much as scanning
// tens of rows, so the choice is made by counting the table's rows first.
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "tasks/task_store.h"

namespace pipeline {

namespace {

// Up to this many tasks, each one's rows come from an indexed lookup.
constexpr size_t kFewTasks = 200;
// Scan the whole table while it holds at most this many rows per task asked
// for; beyond, look up the tasks' rows by id.
constexpr int64_t kScanRowsPerTask = 8;

// One side table. The first column of every query is the task id; `one`
// binds ?1 to one id, `some` binds ?1 to a JSON array of ids. Every query
// returns a task's rows in the order they are listed in.
struct SideTable {
  const char* count;
  const char* one;
  const char* some;
  const char* all;
};

constexpr SideTable kDeps = {
    "SELECT count(*) FROM task_deps",
    "SELECT task_id, depends_on FROM task_deps WHERE task_id = ? ORDER BY depends_on",
    "SELECT task_id, depends_on FROM task_deps WHERE task_id IN (SELECT value FROM json_each(?)) "
    "ORDER BY task_id, depends_on",
    "SELECT task_id, depends_on FROM task_deps ORDER BY task_id, depends_on",
};

constexpr SideTable kTags = {
    "SELECT count(*) FROM task_tags",
    "SELECT task_id, tag FROM task_tags WHERE task_id = ? ORDER BY tag",
    "SELECT task_id, tag FROM task_tags WHERE task_id IN (SELECT value FROM json_each(?)) ORDER BY task_id, tag",
    "SELECT task_id, tag FROM task_tags ORDER BY task_id, tag",
};

constexpr SideTable kComments = {
    // Ids only grow, so the largest is an upper bound of the count, read without a scan.
    "SELECT COALESCE(MAX(id), 0) FROM comments",
    "SELECT task_id, id, text, author, created_at FROM comments WHERE task_id = ? ORDER BY id",
    "SELECT task_id, id, text, author, created_at FROM comments "
    "WHERE task_id IN (SELECT value FROM json_each(?)) ORDER BY task_id, id",
    "SELECT task_id, id, text, author, created_at FROM comments ORDER BY id",
};

using AddRow = void (*)(Task&, const Stmt&);

Status Fill(Db& db, std::vector<Task>* tasks, const SideTable& side, AddRow add) {
  if (tasks->empty()) return Status::Ok();
  if (tasks->size() <= kFewTasks) {
    for (Task& t : *tasks) {
      Stmt& s = db.Cached(side.one);
      s.Bind(1, t.id);
      while (true) {
        PL_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        add(t, s);
      }
    }
    return Status::Ok();
  }
  Stmt& c = db.Cached(side.count);
  PL_ASSIGN_OR_RETURN(bool counted, c.Step());
  int64_t rows = counted ? c.Int(0) : 0;
  c.Reset();
  if (rows == 0) return Status::Ok();

  // Keys view the tasks' ids, which stay put while the map lives.
  std::unordered_map<std::string_view, Task*> by_id;
  by_id.reserve(tasks->size());
  for (Task& t : *tasks) by_id.emplace(t.id, &t);
  bool scan = rows <= kScanRowsPerTask * static_cast<int64_t>(tasks->size());
  Stmt& s = db.Cached(scan ? side.all : side.some);
  if (!scan) {
    nlohmann::json ids = nlohmann::json::array();
    for (const Task& t : *tasks) ids.push_back(t.id);
    s.Bind(1, ids.dump());
  }
  while (true) {
    PL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    if (auto it = by_id.find(s.Text(0)); it != by_id.end()) add(*it->second, s);
  }
  return Status::Ok();
}

}  // namespace

Status TaskStore::LoadDeps(std::vector<Task>* tasks) {
  return Fill(db_, tasks, kDeps, [](Task& t, const Stmt& s) { t.deps.push_back(s.Text(1)); });
}

Status TaskStore::LoadTags(std::vector<Task>* tasks) {
  return Fill(db_, tasks, kTags, [](Task& t, const Stmt& s) { t.tags.push_back(s.Text(1)); });
}

Status TaskStore::LoadComments(std::vector<Task>* tasks) {
  return Fill(db_, tasks, kComments, [](Task& t, const Stmt& s) {
    t.comments.push_back({s.Int(1), s.Text(2), s.Text(3), s.Int(4)});
  });
}

Status TaskStore::LoadDetails(std::vector<Task>* tasks) {
  PL_RETURN_IF_ERROR(LoadDeps(tasks));
  PL_RETURN_IF_ERROR(LoadTags(tasks));
  return LoadComments(tasks);
}

}  // namespace pipeline
