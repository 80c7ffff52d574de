#include "serve/notifier.h"

#include <cstdio>
#include <map>
#include <set>

#include "util/clock.h"
#include "util/log.h"
#include "util/text.h"
#include "sched/merge_queue.h"
#include "tasks/task.h"
#include "tasks/task_board_sql.h"

namespace pipeline::serve {

using nlohmann::json;

Result<int64_t> LoadNotifyMark(Db& db) {
  int64_t mark = 0;
  Status st = db.Write([&]() -> Status {
    Stmt& s = db.Cached("SELECT value FROM meta WHERE key = ?");
    s.BindAll(kNotifyMarkKey);
    PL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) {
      auto v = ParseInt64(s.Text(0));
      s.Reset();
      if (!v) return IOError(std::string("meta ") + kNotifyMarkKey + " is not a number");
      mark = *v;
      return Status::Ok();
    }
    s.Reset();
    Stmt& m = db.Cached("SELECT IFNULL(MAX(id), 0) FROM events");
    PL_ASSIGN_OR_RETURN(bool mrow, m.Step());
    mark = mrow ? m.Int(0) : 0;
    m.Reset();
    return db.Cached("INSERT INTO meta (key, value) VALUES (?, ?)").BindAll(kNotifyMarkKey, std::to_string(mark)).Run();
  });
  if (!st.ok()) return st.error();
  return mark;
}

Result<bool> AdvanceNotifyMark(Db& db, int64_t from, int64_t to) {
  bool moved = false;
  PL_RETURN_IF_ERROR(db.Write([&]() -> Status {
    PL_RETURN_IF_ERROR(db.Cached("UPDATE meta SET value = ? WHERE key = ? AND value = ?")
                           .BindAll(std::to_string(to), kNotifyMarkKey, std::to_string(from))
                           .Run());
    moved = db.Changes() == 1;
    return Status::Ok();
  }));
  return moved;
}

json BaseRedNotification(int64_t event_id, Micros at, const std::optional<std::string>& run_id,
                         const std::string& detail, const std::string& link_base) {
  BaseRedParts parts = ParseBaseRedDetail(detail);
  const std::string& base = parts.base;
  std::string output = parts.output;
  constexpr size_t kMaxOutput = 16 << 10;  // the tail says why; stdin stays small
  if (output.size() > kMaxOutput) output = "..." + output.substr(output.size() - kMaxOutput);
  return json{{"event", "base-red"},
              {"task_id", nullptr},
              {"base", base},
              {"title", base.empty() ? "the base is red" : "the base " + base + " is red"},
              {"status", "base-red"},
              {"reason", output},
              {"question", nullptr},
              {"run_id", run_id ? json(*run_id) : json(nullptr)},
              {"at", FormatIso8601(at)},
              {"event_id", event_id},
              {"link", link_base + "#/queue"}};
}

Result<NotifyBatch> CollectNotifications(Db& db, int64_t after, const std::string& link_base) {
  NotifyBatch b;
  b.next_mark = after;
  Status st = db.Read([&]() -> Status {
    PL_ASSIGN_OR_RETURN(Stmt e, PrepareEventsWithTasksSince(db));
    e.BindAll(after);
    std::set<std::pair<std::string, std::string>> sent;
    while (true) {
      PL_ASSIGN_OR_RETURN(bool row, e.Step());
      if (!row) break;
      b.next_mark = e.Int(0);
      auto task = e.OptText(2);
      if (e.Text(4) == "base-red") {
        // Once per transition: a recheck that finds the base still red is no news.
        PL_ASSIGN_OR_RETURN(bool was_red, BaseWasRedBefore(db, e.Int(0)));
        if (was_red) continue;
        b.notifications.push_back(BaseRedNotification(e.Int(0), e.Int(1), e.OptText(3), e.OptText(5).value_or(""),
                                                      link_base));
        continue;
      }
      if (!task) continue;
      std::string kind = e.Text(4), status = e.OptText(6).value_or("");
      std::string what;
      if (kind == "failure" || kind == "integrate-failed") what = status == TaskStatusName(TaskStatus::kNeedsHelp) ? "needs-help" : "failed";
      else if ((kind == "harvest" || kind == "verify-pass") && status == TaskStatusName(TaskStatus::kReview)) what = "review";
      if (what.empty() || !sent.insert({*task, what}).second) continue;
      json n = {{"event", what},
                {"task_id", *task},
                {"title", e.OptText(7).value_or("")},
                {"status", status},
                {"reason", e.OptText(5).value_or("")},
                {"run_id", e.OptText(3) ? json(*e.OptText(3)) : json(nullptr)},
                {"at", FormatIso8601(e.Int(1))},
                {"event_id", e.Int(0)},
                {"link", link_base + "#/task/" + *task}};
      n["question"] = what == "needs-help" && e.OptText(8) ? json(*e.OptText(8)) : json(nullptr);
      b.notifications.push_back(std::move(n));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return b;
}

Notifier::Notifier(RootPaths paths, std::vector<std::string> command, std::string link_base, ChangeFeed& feed,
                   ProcessRunner& runner)
    : paths_(std::move(paths)),
      command_(std::move(command)),
      link_base_(std::move(link_base)),
      feed_(feed),
      runner_(runner) {}

Notifier::~Notifier() { Stop(); }

Status Notifier::Start() {
  PL_ASSIGN_OR_RETURN(db_, Db::Open(paths_.db(), /*create=*/false));
  PL_RETURN_IF_ERROR(LoadNotifyMark(*db_).status());
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void Notifier::Stop() {
  feed_.Stop();
  if (thread_.joinable()) thread_.join();
}

Result<int> Notifier::Pass() {
  PL_ASSIGN_OR_RETURN(int64_t mark, LoadNotifyMark(*db_));
  PL_ASSIGN_OR_RETURN(NotifyBatch batch, CollectNotifications(*db_, mark, link_base_));
  if (batch.next_mark == mark) return 0;
  // The mark moves first: a crash between here and the command loses a
  // notification rather than sending it twice.
  PL_ASSIGN_OR_RETURN(bool mine, AdvanceNotifyMark(*db_, mark, batch.next_mark));
  if (!mine) return 0;
  int sent = 0;
  for (const json& n : batch.notifications) {
    Command c;
    c.argv = command_;
    c.cwd = paths_.repo();
    c.stdin_data = n.dump(-1, ' ', true, json::error_handler_t::replace) + "\n";
    c.timeout_ms = 30000;
    const std::string about = n["task_id"].is_string() ? n["task_id"].get<std::string>() : n.value("base", "");
    c.env_set = {{"PIPELINE_NOTIFY_EVENT", n["event"].get<std::string>()}};
    if (n["task_id"].is_string()) c.env_set["PIPELINE_TASK_ID"] = about;
    if (n.contains("base")) c.env_set["PIPELINE_BASE"] = about;
    auto r = runner_.Run(c);
    if (!r.ok() || !r->ok()) {
      LogWarning("serve: notify command failed for {} {} ({})", n["event"].get<std::string>(), about,
                 r.ok() ? Trim(r->err) : r.error().message);
      continue;
    }
    ++sent;
  }
  return sent;
}

void Notifier::Loop() {
  int64_t seen = feed_.version();
  while (!feed_.stopped()) {
    if (auto p = Pass(); !p.ok())
      LogWarning("serve: notify: {}", p.error().message);
    auto change = feed_.WaitAfter(seen, 60000);
    if (!change) continue;
    seen = change->version;
  }
}

}  // namespace pipeline::serve
