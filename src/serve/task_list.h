// GET /api/tasks at the scale of a real backlog (10,000 tasks): the list is
// written as text, one pre-rendered JSON object per task, instead of through
// a JSON tree (building and dumping 10,000 small trees was 90% of the time).
// The full list is kept in a cache that a store commit invalidates; the
// board's live updates ask for a few ids (`?ids=`), read straight from the
// store.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/db.h"
#include "util/clock.h"
#include "util/status.h"

namespace pipeline::serve {

// One task of the list: its JSON object without the closing brace (so the
// time-dependent `backoff_s` can be added when it is sent), and what the
// filters and that field need.
struct TaskListRow {
  std::string id;
  std::string status;
  int64_t not_before = 0;
  std::string head;  // {"id":"t-1",...  (no closing brace)
};
using TaskListRows = std::vector<TaskListRow>;

// Every task (ids == nullptr) or only those named, in creation order, with a
// needs-help task's question and reason; one read transaction.
Result<TaskListRows> ReadTaskListRows(Db& db, const std::vector<std::string>* ids);

// The JSON array of the rows whose status is `status` (all when nullopt),
// with `backoff_s` for an open task whose back-off ends after `now`.
std::string TaskListJson(const TaskListRows& rows, Micros now, const std::optional<std::string>& status);

// The full list as of the store's last commit. Whether anything committed
// since the last build is asked of a connection of its own that never writes
// (`PRAGMA data_version` changes on every commit by any other connection,
// this server's included); it is read before the rows, so a build never
// stands for a store older than its stamp. One build at a time: concurrent
// requests after a commit wait for it rather than repeat it.
class TaskListCache {
 public:
  explicit TaskListCache(std::string db_path) : db_path_(std::move(db_path)) {}

  // `db` is the caller's connection, used to read the rows on a miss.
  Result<std::shared_ptr<const TaskListRows>> Rows(Db& db);
  int64_t builds() const;

 private:
  const std::string db_path_;
  mutable std::mutex mu_;
  std::unique_ptr<Db> stamp_db_;              // GUARDED_BY(mu_)
  int64_t stamp_ = 0;                         // GUARDED_BY(mu_)
  std::shared_ptr<const TaskListRows> rows_;  // GUARDED_BY(mu_)
  int64_t builds_ = 0;                        // GUARDED_BY(mu_)
};

}  // namespace pipeline::serve
