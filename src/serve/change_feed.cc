#include "serve/change_feed.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "agent/run_record.h"
#include "util/clock.h"
#include "util/files.h"
#include "tasks/task_board_sql.h"

namespace pipeline::serve {

namespace {

constexpr uint32_t kFileEvents = IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE;

}  // namespace

nlohmann::json Change::ToJson() const {
  return {{"version", version}, {"store", store}, {"resync", resync},
          {"tasks", tasks},     {"runs", runs},   {"logs", logs}};
}

ChangeFeed::ChangeFeed(RootPaths paths) : paths_(std::move(paths)) {}

ChangeFeed::~ChangeFeed() {
  Stop();
  if (inotify_ >= 0) close(inotify_);
  if (wake_ >= 0) close(wake_);
}

Status ChangeFeed::Start() {
  PL_ASSIGN_OR_RETURN(db_, Db::Open(paths_.db(), /*create=*/false));
  inotify_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (inotify_ < 0 || wake_ < 0) return IOError(std::string("inotify: ") + strerror(errno));
  root_wd_ = inotify_add_watch(inotify_, paths_.root.c_str(), kFileEvents);
  if (root_wd_ < 0) return IOError("cannot watch " + paths_.root + ": " + strerror(errno));
  runs_wd_ = inotify_add_watch(inotify_, paths_.runs_dir().c_str(), IN_CREATE | IN_MOVED_TO);
  // Where we start from: later commits are reported relative to this.
  data_version_ = db_->DataVersion();
  Status st = db_->Read([&]() -> Status {
    PL_ASSIGN_OR_RETURN(Stmt s, PrepareStoreHighWater(*db_));
    PL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) {
      last_event_id_ = s.Int(0);
      last_task_update_ = s.Int(1);
      last_run_end_ = s.Int(2);
    }
    PL_ASSIGN_OR_RETURN(Stmt a, db_->Prepare("SELECT run_id FROM runs WHERE status IN ('starting', 'running')"));
    return EachRow(a, [&](Stmt& r) { WatchRunDir(r.Text(0)); });
  });
  PL_RETURN_IF_ERROR(st);
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void ChangeFeed::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_ && !thread_.joinable()) return;
    stopped_ = true;
  }
  cv_.notify_all();
  if (wake_ >= 0) {
    uint64_t one = 1;
    (void)!write(wake_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
}

bool ChangeFeed::stopped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopped_;
}

int64_t ChangeFeed::version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return version_;
}

void ChangeFeed::WatchRunDir(const std::string& run_id) {
  if (!ValidateRunId(run_id).ok()) return;
  for (const auto& [wd, id] : run_wds_)
    if (id == run_id) return;
  std::string dir = paths_.runs_dir() + "/" + run_id;
  int wd = inotify_add_watch(inotify_, dir.c_str(), IN_MODIFY | IN_CREATE);
  if (wd >= 0) run_wds_[wd] = run_id;
}

bool ChangeFeed::CollectStoreChange(Change* c) {
  int64_t dv = db_->DataVersion();
  if (dv == data_version_) return false;
  data_version_ = dv;
  c->store = true;
  std::set<std::string> ended;
  Status st = db_->Read([&]() -> Status {
    PL_ASSIGN_OR_RETURN(Stmt t, PrepareTasksUpdatedSince(*db_));
    t.BindAll(last_task_update_);
    PL_RETURN_IF_ERROR(EachRow(t, [&](Stmt& r) {
      c->tasks.insert(r.Text(0));
      last_task_update_ = std::max(last_task_update_, r.Int(1));
    }));
    PL_ASSIGN_OR_RETURN(Stmt e, db_->Prepare("SELECT id, task_id, run_id FROM events WHERE id > ? ORDER BY id LIMIT 5000"));
    e.BindAll(last_event_id_);
    PL_RETURN_IF_ERROR(EachRow(e, [&](Stmt& r) {
      last_event_id_ = r.Int(0);
      if (auto id = r.OptText(1)) c->tasks.insert(*id);
      if (auto id = r.OptText(2)) c->runs.insert(*id);
    }));
    // Active runs change cost and turns as they go; ended ones once.
    PL_ASSIGN_OR_RETURN(Stmt r, db_->Prepare(
        "SELECT run_id, task_id, status, IFNULL(ended_at, 0) FROM runs "
        "WHERE status IN ('starting', 'running') OR ended_at > ?"));
    r.BindAll(last_run_end_);
    return EachRow(r, [&](Stmt& row) {
      std::string id = row.Text(0);
      c->runs.insert(id);
      if (auto t = row.OptText(1)) c->tasks.insert(*t);
      std::string status = row.Text(2);
      if (status == "starting" || status == "running") WatchRunDir(id);
      else ended.insert(id);
      last_run_end_ = std::max(last_run_end_, row.Int(3));
    });
  });
  // An ended run's log is complete (the monitor flushes before its final
  // write): its watch can go.
  for (auto it = run_wds_.begin(); it != run_wds_.end();) {
    if (ended.count(it->second)) {
      inotify_rm_watch(inotify_, it->first);
      it = run_wds_.erase(it);
    } else {
      ++it;
    }
  }
  if (!st.ok()) c->resync = true;  // could not tell what: let readers reload
  return true;
}

void ChangeFeed::Loop() {
  alignas(struct inotify_event) char buf[16384];
  while (!stopped()) {
    struct pollfd fds[2] = {{inotify_, POLLIN, 0}, {wake_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents & POLLIN) break;
    Change c;
    bool db_touched = false;
    // Take what has arrived, then whatever follows within a few
    // milliseconds: one commit writes the WAL several times.
    for (int round = 0; round < 5; ++round) {
      bool any = false;
      while (true) {
        ssize_t n = read(inotify_, buf, sizeof buf);
        if (n <= 0) break;
        any = true;
        for (char* p = buf; p < buf + n;) {
          auto* ev = reinterpret_cast<struct inotify_event*>(p);
          p += sizeof(struct inotify_event) + ev->len;
          std::string name = ev->len ? std::string(ev->name) : std::string();
          if (ev->wd == root_wd_) {
            if (name == "pipeline.db" || name == "pipeline.db-wal") db_touched = true;
            if (name == "runs" && runs_wd_ < 0)
              runs_wd_ = inotify_add_watch(inotify_, paths_.runs_dir().c_str(), IN_CREATE | IN_MOVED_TO);
          } else if (ev->wd == runs_wd_) {
            if (!name.empty() && (ev->mask & IN_ISDIR)) {
              WatchRunDir(name);
              c.logs.insert(name);
            }
          } else if (auto it = run_wds_.find(ev->wd); it != run_wds_.end()) {
            c.logs.insert(it->second);
          }
        }
      }
      if (!any && round > 0) break;
      struct pollfd again = {inotify_, POLLIN, 0};
      poll(&again, 1, 5);
    }
    if (db_touched) CollectStoreChange(&c);
    if (c.store || !c.logs.empty()) Publish(std::move(c));
  }
}

void ChangeFeed::Publish(Change c) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    c.version = ++version_;
    recent_.push_back(std::move(c));
    while (recent_.size() > kKeep) recent_.pop_front();
  }
  cv_.notify_all();
}

std::optional<Change> ChangeFeed::WaitAfter(int64_t since, int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  bool ready = cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                            [&] { return stopped_ || version_ > since; });
  if (!ready || stopped_) return std::nullopt;
  Change merged;
  merged.version = version_;
  if (recent_.empty() || recent_.front().version > since + 1) merged.resync = true;
  for (const Change& c : recent_) {
    if (c.version <= since) continue;
    merged.tasks.insert(c.tasks.begin(), c.tasks.end());
    merged.runs.insert(c.runs.begin(), c.runs.end());
    merged.logs.insert(c.logs.begin(), c.logs.end());
    merged.store = merged.store || c.store;
    merged.resync = merged.resync || c.resync;
  }
  return merged;
}

}  // namespace pipeline::serve
