#include "serve/views.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "agent/run_store.h"
#include "ledger/ledger.h"
#include "sched/status_snapshot.h"
#include "sched/waiting.h"
#include "tasks/domain_pause.h"
#include "tasks/task_store.h"
#include "tasks/task_board_sql.h"

namespace pipeline::serve {

using nlohmann::json;

namespace {

json OptJson(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

}  // namespace

Result<json> StatusView(Db& db, const ServeContext& ctx, Clock& clock) {
  return StatusSnapshot(db, ctx.paths, ctx.options, clock);
}

Result<json> RunView(Db& db, const std::string& run_id) {
  PL_RETURN_IF_ERROR(ValidateRunId(run_id));
  PL_ASSIGN_OR_RETURN(RunRecord r, GetRun(db, run_id));
  json j = RunToStatusJson(r);
  j["active"] = !IsTerminal(r.status);
  j["max_cost_cents"] = r.max_cost_cents ? json(*r.max_cost_cents) : json(nullptr);
  j["max_iter"] = r.max_iter ? json(*r.max_iter) : json(nullptr);
  j["harvested"] = r.harvested_at.has_value();
  return j;
}

Result<json> RunLogView(Db& db, const std::string& run_id, const std::string& stream, int64_t offset,
                        int64_t max_bytes) {
  PL_RETURN_IF_ERROR(ValidateRunId(run_id));
  if (stream != "stdout" && stream != "stderr") return InvalidArgument("stream must be stdout or stderr");
  if (offset < 0) return InvalidArgument("offset must be a non-negative integer");
  PL_ASSIGN_OR_RETURN(RunRecord r, GetRun(db, run_id));
  // The path comes from the run's own row (written by InsertRun under RunDir).
  const std::string& path = stream == "stdout" ? r.stdout_path : r.stderr_path;
  json j = {{"run_id", run_id}, {"stream", stream}, {"active", !IsTerminal(r.status)}};
  int fd = path.empty() ? -1 : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    j.update({{"text", ""}, {"offset", 0}, {"next_offset", 0}, {"size", 0}});
    return j;
  }
  struct stat stt {};
  fstat(fd, &stt);
  int64_t size = stt.st_size;
  if (offset > size) {
    offset = 0;
    j["reset"] = true;
  }
  int64_t want = std::min<int64_t>(max_bytes, size - offset);
  std::string text(static_cast<size_t>(want), '\0');
  ssize_t got = want > 0 ? pread(fd, text.data(), text.size(), offset) : 0;
  close(fd);
  if (got < 0) return IOError("cannot read the log of run " + run_id);
  text.resize(static_cast<size_t>(got));
  j.update({{"text", text}, {"offset", offset}, {"next_offset", offset + got}, {"size", size}});
  return j;
}

Result<json> BudgetsView(Db& db, const ServeContext& ctx, Clock& clock) {
  json out = json::array();
  Status st = db.Read([&]() -> Status {
    Ledger ledger(db, clock, ctx.default_budget_cents);
    PL_ASSIGN_OR_RETURN(auto reports, ledger.Report());
    PL_ASSIGN_OR_RETURN(auto paused, PausedDomains(db));
    for (const auto& d : reports) {
      out.push_back({{"domain", d.domain},
                     {"budget_cents", d.budget_cents},
                     {"held_cents", d.held_cents},
                     {"spent_cents", d.spent_cents},
                     {"remaining_cents", d.remaining_cents},
                     {"overrun_blocked", d.overrun_blocked},
                     {"paused", paused.count(d.domain) > 0}});
      paused.erase(d.domain);
    }
    // A paused domain the ledger has not met yet is still worth showing.
    for (const auto& d : paused)
      out.push_back({{"domain", d}, {"budget_cents", 0}, {"held_cents", 0}, {"spent_cents", 0},
                     {"remaining_cents", 0}, {"overrun_blocked", false}, {"paused", true}});
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return out;
}

Result<json> QueueView(Db& db, const ServeContext& ctx, Clock& clock, int limit) {
  json j;
  Status st = db.Read([&]() -> Status {
    // Why each waits, as `pipeline status` says it (the same read).
    WaitingInput in;
    in.options = ctx.options;
    in.default_budget_cents = ctx.default_budget_cents;
    PL_ASSIGN_OR_RETURN(auto waiting, ComputeWaiting(db, in, clock));
    std::map<std::string, const WaitReason*> why;
    for (const auto& w : waiting) why[w.task_id] = &w;
    auto add_why = [&](json& e) {
      auto it = why.find(e["id"].get<std::string>());
      if (it == why.end()) return;
      e["wait"] = WaitKindName(it->second->kind);
      e["why"] = it->second->reason;
    };
    TaskStore store(db, clock);
    PL_ASSIGN_OR_RETURN(auto ready, store.Ready());
    json dev = json::array();
    Micros now = clock.Now();
    for (const Task& t : ready) {
      if (static_cast<int>(dev.size()) >= limit) break;
      json e = {{"id", t.id}, {"title", t.title}, {"priority", t.priority}, {"namespace", OptJson(t.ns)},
                {"patchset", t.patchset}};
      if (t.not_before > now) e["backoff_s"] = static_cast<double>(t.not_before - now) / 1e6;
      add_why(e);
      dev.push_back(std::move(e));
    }
    j["dev"] = dev;
    j["dev_total"] = ready.size();
    json merge = json::array();
    PL_ASSIGN_OR_RETURN(Stmt m, PrepareVerifiedQueue(db));
    m.BindAll(static_cast<int64_t>(limit));
    PL_RETURN_IF_ERROR(EachRow(m, [&](Stmt& r) {
      json e = {{"id", r.Text(0)}, {"title", r.Text(1)}, {"patchset", r.Int(2)}};
      add_why(e);
      merge.push_back(std::move(e));
    }));
    j["merge"] = merge;
    json integrating = json::array();
    PL_ASSIGN_OR_RETURN(Stmt i, db.Prepare(
        "SELECT run_id, task_id, status FROM runs WHERE phase = 'integrate' AND status IN ('starting', 'running') "
        "ORDER BY created_at"));
    PL_RETURN_IF_ERROR(EachRow(i, [&](Stmt& r) {
      integrating.push_back({{"run_id", r.Text(0)}, {"task_id", r.OptText(1).value_or("")}, {"state", r.Text(2)}});
    }));
    j["integrating"] = integrating;
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return j;
}

}  // namespace pipeline::serve
