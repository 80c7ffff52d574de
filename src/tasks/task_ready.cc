// `ready`: open work tasks whose dependencies are all done, P0 first, then
// oldest. The one definition: `task ready` reads all of it, the scheduler a
// filtered page of it (its candidates), `status` counts it. Over a large backlog a NOT EXISTS per candidate costs a lookup in
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

Status TaskStore::DropBlocked(std::vector<Task>* open_tasks) {
  std::vector<Task>& candidates = *open_tasks;  // filtered in place
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
  return Status::Ok();
}

Result<std::vector<Task>> TaskStore::Ready(const ReadyFilter& f) {
  // Candidates are the open work tasks the filter lets through, in order; a
  // page of them loses the blocked ones, so with a limit the pages go on
  // until it is filled or the candidates run out. Pages start at 32 rows and
  // double, so a long run of blocked candidates costs a few queries, not one
  // per task.
  std::string where = "WHERE status = 'open' AND type = 'work'";
  if (f.with_namespace && *f.with_namespace) where += " AND namespace IS NOT NULL";
  // Tasks without a namespace are few (the scheduler asks for them every
  // step): found through the namespace index. "+status" keeps SQLite off
  // the status index, which would walk every open task to find them.
  if (f.with_namespace && !*f.with_namespace) where = "WHERE namespace IS NULL AND +status = 'open' AND type = 'work'";
  if (f.due_by) where += " AND not_before <= ?1";
  if (!f.excluded_namespaces.empty()) where += " AND namespace NOT IN (SELECT value FROM json_each(?2))";
  if (f.parent) where += " AND parent = ?3";
  if (f.task_id) where += " AND id = ?4";
  const std::string first_page_where = where;
  where += " AND (priority > ?5 OR (priority = ?5 AND seq > ?6))";
  const std::string order = f.limit ? " ORDER BY priority, seq LIMIT ?7" : " ORDER BY priority, seq";
  const std::string excluded = nlohmann::json(f.excluded_namespaces).dump();
  constexpr size_t kFirstPage = 32, kLargestPage = 4096;
  size_t page_rows = f.limit ? std::max(f.limit, kFirstPage) : 0;

  std::vector<Task> ready;
  Status st = db_.Read([&]() -> Status {
    if (!f.limit) {
      Stmt& count = db_.Cached("SELECT count(*) FROM tasks WHERE status = 'open'");
      PL_ASSIGN_OR_RETURN(bool counted, count.Step());
      if (counted) ready.reserve(static_cast<size_t>(count.Int(0)));
      count.Reset();
    }
    std::optional<std::pair<int64_t, int64_t>> after = f.after;
    while (true) {
      std::vector<Task> fetched;
      std::vector<Task>& page = ready.empty() ? ready : fetched;  // the first page fills `ready` in place
      size_t before = page.size();
      PL_RETURN_IF_ERROR(Rows((after ? where : first_page_where) + order,
                              [&](Stmt& s) {
                                if (f.due_by) s.Bind(1, *f.due_by);
                                if (!f.excluded_namespaces.empty()) s.Bind(2, excluded);
                                if (f.parent) s.Bind(3, *f.parent);
                                if (f.task_id) s.Bind(4, *f.task_id);
                                if (after) {
                                  s.Bind(5, after->first);
                                  s.Bind(6, after->second);
                                }
                                if (f.limit) s.Bind(7, static_cast<int64_t>(page_rows));
                              },
                              &page));
      size_t rows = page.size() - before;
      if (rows) after = std::make_pair(static_cast<int64_t>(page.back().priority), page.back().seq);
      PL_RETURN_IF_ERROR(LoadDeps(&page));
      PL_RETURN_IF_ERROR(DropBlocked(&page));
      if (&page != &ready)
        for (Task& t : page) {
          if (ready.size() == f.limit) break;
          ready.push_back(std::move(t));
        }
      if (!f.limit || rows < page_rows || ready.size() >= f.limit) break;
      page_rows = std::min(page_rows * 2, std::max(kLargestPage, f.limit));
    }
    if (f.limit && ready.size() > f.limit) ready.resize(f.limit);  // the first page may hold more
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return ready;
}

Result<std::vector<Task>> TaskStore::Ready() {
  std::vector<Task> ready;
  Status st = db_.Read([&]() -> Status {
    PL_ASSIGN_OR_RETURN(ready, Ready(ReadyFilter{}));
    PL_RETURN_IF_ERROR(LoadTags(&ready));
    return LoadComments(&ready);
  });
  if (!st.ok()) return st.error();
  return ready;
}

Result<std::vector<Task>> ReadyTasks(Db& db, const ReadyFilter& f) { return TaskStore(db, SystemClock()).Ready(f); }

}  // namespace pipeline
