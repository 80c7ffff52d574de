// Notifications: `[notify] command = [...]` in the config runs once for each
// transition of a task into needs-help or review, for each failure, and for
// each time the merge queue's base turns red, with a JSON document on stdin
// (event, task, title, reason, question, link).
//
// The scheduler records every transition in the events table, in the same
// transaction as the move; the notifier reads events past a high-water mark
// kept in the store (meta key serve.notify_event_id), advances the mark in
// one transaction, then runs the command. So a restart neither repeats a
// notification nor replays history (a first start begins at the newest
// event), and nothing is sent per poll: only per event row.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "proc/process.h"
#include "serve/change_feed.h"
#include "store/db.h"
#include "store/root.h"
#include "util/clock.h"
#include "util/status.h"

namespace pipeline::serve {

inline constexpr const char* kNotifyMarkKey = "serve.notify_event_id";

// The notifications for events after the mark, and the new mark. Each
// (task, kind) is sent once per batch. link_base: the dashboard URL.
struct NotifyBatch {
  std::vector<nlohmann::json> notifications;
  int64_t next_mark = 0;
};
Result<NotifyBatch> CollectNotifications(Db& db, int64_t after_event_id, const std::string& link_base);

// A "base-red" events row (sched/merge_queue.h: BaseRedDetail) as its notification:
// `base`, `reason` = the tail of the check's output, a link to the queue.
nlohmann::json BaseRedNotification(int64_t event_id, Micros at, const std::optional<std::string>& run_id,
                                   const std::string& detail, const std::string& link_base);

// Reads the mark, starting it at the newest event when absent.
Result<int64_t> LoadNotifyMark(Db& db);
// Moves the mark from `from` to `to` (compare-and-set: two servers on one
// store cannot both send a batch). False when another moved it first.
Result<bool> AdvanceNotifyMark(Db& db, int64_t from, int64_t to);

class Notifier {
 public:
  Notifier(RootPaths paths, std::vector<std::string> command, std::string link_base, ChangeFeed& feed,
           ProcessRunner& runner);
  ~Notifier();
  Status Start();
  void Stop();
  // One pass: claim the batch after the mark, then run the command per
  // notification. Returns how many were sent.
  Result<int> Pass();

 private:
  void Loop();
  RootPaths paths_;
  std::vector<std::string> command_;
  std::string link_base_;
  ChangeFeed& feed_;
  ProcessRunner& runner_;
  std::unique_ptr<Db> db_;
  std::thread thread_;
};

}  // namespace pipeline::serve
