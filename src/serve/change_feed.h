// Live updates for `pipeline serve`: a thread that learns of store commits
// from the kernel (inotify on the database and its WAL file) and confirms
// them with PRAGMA data_version, then says what changed: a version counter,
// the tasks touched (updated_at or a new event), the runs touched, and the
// run logs that grew (inotify on .pipeline/runs/<id>/). Nothing polls on a
// timer. Readers block in WaitAfter until there is something newer than what
// they have seen.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "store/db.h"
#include "store/root.h"
#include "util/status.h"

namespace pipeline::serve {

struct Change {
  int64_t version = 0;
  std::set<std::string> tasks, runs, logs;  // logs: ids of runs whose log grew
  bool store = false;                       // a commit (not only log growth)
  bool resync = false;                      // the reader fell too far behind: reload everything
  nlohmann::json ToJson() const;
};

class ChangeFeed {
 public:
  explicit ChangeFeed(RootPaths paths);
  ~ChangeFeed();
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  Status Start();
  void Stop();  // wakes every waiter; idempotent

  int64_t version() const;
  // Everything that changed after `since`, merged, once the version passes
  // it; nullopt after timeout_ms or when stopped.
  std::optional<Change> WaitAfter(int64_t since, int64_t timeout_ms);
  bool stopped() const;

 private:
  void Loop();
  void WatchRunDir(const std::string& run_id);
  // Reads what the commit changed since the last look; false when nothing did.
  bool CollectStoreChange(Change* c);
  void Publish(Change c);

  RootPaths paths_;
  std::unique_ptr<Db> db_;  // the feed thread's own connection
  int inotify_ = -1, wake_ = -1;
  int root_wd_ = -1, runs_wd_ = -1;
  std::map<int, std::string> run_wds_;  // watch descriptor -> run id
  int64_t data_version_ = 0, last_event_id_ = 0, last_task_update_ = 0, last_run_end_ = 0;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  int64_t version_ = 0;        // GUARDED_BY(mu_)
  std::deque<Change> recent_;  // GUARDED_BY(mu_): the last kKeep changes
  bool stopped_ = false;       // GUARDED_BY(mu_)
  static constexpr size_t kKeep = 512;
};

}  // namespace pipeline::serve
