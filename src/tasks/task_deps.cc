// Dependencies between tasks: the graph stays acyclic, so `ready` always
// terminates in a state where something can run.
#include <deque>
#include <unordered_map>

#include "tasks/task_store.h"
#include "util/text.h"

namespace pipeline {

Result<std::vector<std::string>> TaskStore::PathBetween(const std::string& from, const std::string& to) {
  // Breadth-first over "depends on" edges, remembering how each node was reached.
  std::unordered_map<std::string, std::string> came_from{{from, ""}};
  std::deque<std::string> queue{from};
  while (!queue.empty()) {
    std::string cur = queue.front();
    queue.pop_front();
    if (cur == to) {
      std::vector<std::string> path;
      for (std::string n = to; !n.empty(); n = came_from[n]) path.insert(path.begin(), n);
      return path;
    }
    Stmt& s = db_.Cached("SELECT depends_on FROM task_deps WHERE task_id = ?");
    s.Bind(1, cur);
    while (true) {
      PL_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      std::string next = s.Text(0);
      if (came_from.emplace(next, cur).second) queue.push_back(next);
    }
  }
  return std::vector<std::string>{};
}

Status TaskStore::AddDependency(const std::string& id, const std::string& dep) {
  return db_.Write([&]() -> Status {
    PL_RETURN_IF_ERROR(RequireExists(id));
    PL_RETURN_IF_ERROR(RequireExists(dep, "dependency"));
    if (id == dep) return Refused("task " + id + " cannot depend on itself");
    PL_ASSIGN_OR_RETURN(auto path, PathBetween(dep, id));
    if (!path.empty()) {
      std::string cycle = id;
      for (const auto& n : path) cycle += " -> " + n;
      return Refused("refused: " + id + " -> " + dep + " would make a cycle: " + cycle);
    }
    PL_RETURN_IF_ERROR(db_.Cached("INSERT OR IGNORE INTO task_deps (task_id, depends_on) VALUES (?, ?)")
                           .BindAll(id, dep)
                           .Run());
    if (db_.Changes() == 0) return Status::Ok();  // already there: nothing changed
    return Touch(id);
  });
}

Status TaskStore::RemoveDependency(const std::string& id, const std::string& dep) {
  return db_.Write([&]() -> Status {
    PL_RETURN_IF_ERROR(RequireExists(id));
    PL_RETURN_IF_ERROR(
        db_.Cached("DELETE FROM task_deps WHERE task_id = ? AND depends_on = ?").BindAll(id, dep).Run());
    if (db_.Changes() == 0) return NotFound("task " + id + " does not depend on " + Quoted(dep));
    return Touch(id);
  });
}

}  // namespace pipeline
