// `ready`: open work tasks whose dependencies are all done, P0 first, then
// oldest. Over a large backlog a NOT EXISTS per candidate costs a lookup in
// task_deps for every candidate and two more (id index, then row) for every
// dependency; b-tree lookups, not rows, are what costs here. So the
// candidates come in order off the (status, priority, seq) index, their
// dependencies in one pass (task_details.cc), and the status of only those
// dependencies that are not candidates themselves in one query over the
// list of their ids.
#include <algorithm>
#include <string_view>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "tasks/task_store.h"

namespace pipeline {

Result<std::vector<std::string>> TaskStore::NotDone(const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  if (ids.empty()) return out;
  // A join rather than IN (...): the ids are distinct, and IN would first
  // copy them all into a temporary index.
  Stmt& s = db_.Cached(
      "SELECT t.id FROM json_each(?) j CROSS JOIN tasks t ON t.id = j.value WHERE t.status <> 'done'");
  s.Bind(1, nlohmann::json(ids).dump());
  while (true) {
    PL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(s.Text(0));
  }
  return out;
}

Result<std::vector<Task>> TaskStore::Ready() {
  std::vector<Task> ready;
  Status st = db_.Read([&]() -> Status {
    std::vector<Task>& candidates = ready;  // filtered in place below
    Stmt& count = db_.Cached("SELECT count(*) FROM tasks WHERE status = 'open'");
    PL_ASSIGN_OR_RETURN(bool counted, count.Step());
    if (counted) candidates.reserve(static_cast<size_t>(count.Int(0)));
    count.Reset();
    PL_RETURN_IF_ERROR(Rows("WHERE status = 'open' AND type = 'work' ORDER BY priority, seq", {}, &candidates));
    PL_RETURN_IF_ERROR(LoadDeps(&candidates));

    // A dependency blocks unless its task is done; one whose task does not
    // exist blocks nothing (as the join of the old NOT EXISTS had it). The
    // views point into the ids in `candidates`.
    std::unordered_set<std::string_view> open;
    open.reserve(candidates.size());
    for (const Task& t : candidates) open.insert(t.id);
    std::unordered_set<std::string_view> asked;
    std::vector<std::string> ask;
    for (const Task& t : candidates)
      for (const std::string& d : t.deps)
        if (!open.count(d) && asked.insert(d).second) ask.push_back(d);
    std::sort(ask.begin(), ask.end());  // looked up in key order, each index page is read once
    PL_ASSIGN_OR_RETURN(std::vector<std::string> not_done_list, NotDone(ask));
    std::unordered_set<std::string> not_done(not_done_list.begin(), not_done_list.end());

    std::vector<bool> blocked(candidates.size(), false);
    for (size_t i = 0; i < candidates.size(); ++i)
      for (const std::string& d : candidates[i].deps)
        if (open.count(d) || not_done.count(d)) blocked[i] = true;
    // Moving a task ends the views into it, so only now.
    size_t kept = 0;
    for (size_t i = 0; i < candidates.size(); ++i)
      if (!blocked[i]) {
        if (kept != i) candidates[kept] = std::move(candidates[i]);
        ++kept;
      }
    candidates.resize(kept);
    PL_RETURN_IF_ERROR(LoadTags(&ready));
    return LoadComments(&ready);
  });
  if (!st.ok()) return st.error();
  return ready;
}

}  // namespace pipeline
