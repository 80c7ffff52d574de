#include "sched/status_snapshot.h"

#include <fmt/format.h>

#include <map>

#include "agent/run_store.h"
#include "ledger/ledger.h"
#include "sched/sched_sql.h"
#include "tasks/task_queries.h"
#include "tasks/task_store.h"

namespace pipeline {

using nlohmann::json;

namespace {

template <typename F>
Status EachRow(Stmt& s, F f) {
  while (true) {
    PL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    f(s);
  }
  return Status::Ok();
}

}  // namespace

Result<json> StatusSnapshot(Db& db, const RootPaths& paths, const SchedulerOptions& o, Clock& clock) {
  json j;
  Micros now = clock.Now();
  j["root"] = paths.root;
  j["at"] = FormatIso8601(now);
  Status st = db.Read([&]() -> Status {
    json counts = json::object();
    PL_ASSIGN_OR_RETURN(auto by_status, CountTasksByStatus(db, /*with_epics=*/false));
    for (TaskStatus s : kAllTaskStatuses) counts[TaskStatusName(s)] = by_status[s];
    j["counts"] = counts;

    // Active runs (the seed's shape, plus ours).
    json active = json::array();
    std::map<std::string, int> busy;
    PL_ASSIGN_OR_RETURN(auto runs, ListRuns(db, /*active_only=*/true));
    for (const auto& r : runs) {
      std::optional<std::string> ns;
      if (r.task_id) {
        PL_ASSIGN_OR_RETURN(ns, TaskNamespaceOf(db, *r.task_id));
      }
      Micros started = r.started_at.value_or(r.created_at);
      json a = {{"arTaskId", r.task_id.value_or("")},
                {"arRunId", r.run_id},
                {"arDomain", r.domain.value_or("")},
                {"arNamespace", ns.value_or("")},
                {"arStartedAt", FormatIso8601(started)},
                {"phase", r.phase},
                {"state", RunStatusName(r.status)},
                {"age_s", static_cast<double>(now - started) / 1e6},
                {"cost_cents", r.cost_cents}};
      active.push_back(a);
      if (r.phase == "dev" && r.domain) ++busy[*r.domain];
    }
    j["active_runs"] = active;
    j["count"] = active.size();

    // Budgets.
    Ledger ledger(db, clock, 0);
    PL_ASSIGN_OR_RETURN(auto reports, ledger.Report());
    json budgets = json::array();
    std::map<std::string, DomainReport> by_domain;
    for (const auto& d : reports) {
      by_domain[d.domain] = d;
      budgets.push_back({{"domain", d.domain},
                         {"budget_cents", d.budget_cents},
                         {"held_cents", d.held_cents},
                         {"spent_cents", d.spent_cents},
                         {"remaining_cents", d.remaining_cents},
                         {"overrun_blocked", d.overrun_blocked}});
    }
    j["budgets"] = budgets;

    // Recent failures and scheduler notes.
    json failures = json::array();
    PL_ASSIGN_OR_RETURN(Stmt f, db.Prepare(
        "SELECT at, task_id, run_id, kind, detail FROM events WHERE kind IN "
        "('failure', 'error', 'integrate-failed', 'integrate-waiting', 'left') ORDER BY id DESC LIMIT 10"));
    PL_RETURN_IF_ERROR(EachRow(f, [&](Stmt& s) {
      failures.push_back({{"at", FormatIso8601(s.Int(0))},
                          {"task_id", s.OptText(1).value_or("")},
                          {"run_id", s.OptText(2).value_or("")},
                          {"kind", s.Text(3)},
                          {"detail", s.OptText(4).value_or("")}});
    }));
    j["recent_failures"] = failures;

    // Waiting: back-off and needs-help.
    json backoff = json::array();
    PL_ASSIGN_OR_RETURN(auto waiting, TasksInBackoff(db, now, 50));
    for (const BackoffTask& t : waiting)
      backoff.push_back({{"task_id", t.id},
                         {"seconds_left", static_cast<double>(t.not_before - now) / 1e6},
                         {"retries", t.retries}});
    j["backoff"] = backoff;
    json help = json::array();
    PL_ASSIGN_OR_RETURN(auto helpless, TasksNeedingHelp(db, 50));
    for (const HelpTask& t : helpless) help.push_back({{"task_id", t.id}, {"title", t.title}, {"retries", t.retries}});
    j["needs_help"] = help;

    // Skipped: ready tasks the scheduler will not start now, and why.
    json skipped = json::array();
    PL_ASSIGN_OR_RETURN(auto no_ns, ReadyWithoutNamespace(db, 50));
    for (const std::string& id : no_ns) skipped.push_back({{"task_id", id}, {"reason", "no namespace"}});
    // Per domain with ready work: busy or out of budget (one line per domain).
    ReadyFilter startable;  // what the scheduler would start, but for slots and budget
    startable.with_namespace = true;
    startable.due_by = now;
    PL_ASSIGN_OR_RETURN(std::vector<Task> ready, ReadyTasks(db, startable));
    std::map<std::string, int64_t> ready_by_ns, ready_by_domain;
    for (const Task& t : ready) ++ready_by_ns[*t.ns];
    for (const auto& [ns, count] : ready_by_ns) ready_by_domain[DomainFor(o, ns)] += count;
    for (const auto& [dom, count] : ready_by_domain) {
      std::string reason;
      if (busy[dom] >= o.MaxActiveFor(dom)) {
        reason = "domain busy (" + std::to_string(busy[dom]) + " active, limit " +
                 std::to_string(o.MaxActiveFor(dom)) + ")";
      } else {
        auto it = by_domain.find(dom);
        int64_t remaining = it == by_domain.end() ? 0 : it->second.remaining_cents;
        bool blocked = it != by_domain.end() && it->second.overrun_blocked;
        if (blocked) reason = "no budget (blocked by an overrun)";
        else if (remaining < o.reserve_cents)
          reason = "no budget (" + std::to_string(remaining) + "c left, a run holds " +
                   std::to_string(o.reserve_cents) + "c)";
      }
      if (!reason.empty()) skipped.push_back({{"domain", dom}, {"ready", count}, {"reason", reason}});
    }
    j["skipped"] = skipped;
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return j;
}

std::string FormatStatus(const json& j) {
  std::string s = fmt::format("Pipeline scheduler status (root={})\n", j["root"].get<std::string>());
  s += "Tasks:";
  for (const auto& [k, v] : j["counts"].items()) s += fmt::format(" {}={}", k, v.get<int64_t>());
  s += "\n";
  s += fmt::format("Active runs: {}\n", j["count"].get<size_t>());
  for (const auto& a : j["active_runs"])
    s += fmt::format("  - {}  run={}  domain={}  phase={}  age={:.0f}s  cost={:.0f}c\n",
                     a["arTaskId"].get<std::string>(), a["arRunId"].get<std::string>(),
                     a["arDomain"].get<std::string>(), a["phase"].get<std::string>(), a["age_s"].get<double>(),
                     a["cost_cents"].get<double>());
  if (!j["budgets"].empty()) {
    s += "Budgets (cents):\n";
    for (const auto& b : j["budgets"])
      s += fmt::format("  {:<24} budget={} held={} spent={} remaining={}{}\n", b["domain"].get<std::string>(),
                       b["budget_cents"].get<int64_t>(), b["held_cents"].get<int64_t>(),
                       b["spent_cents"].get<int64_t>(), b["remaining_cents"].get<int64_t>(),
                       b["overrun_blocked"].get<bool>() ? " (blocked: overrun)" : "");
  }
  if (!j["backoff"].empty()) {
    s += "In back-off:\n";
    for (const auto& b : j["backoff"])
      s += fmt::format("  {}  retries={}  {:.0f}s left\n", b["task_id"].get<std::string>(), b["retries"].get<int64_t>(),
                       b["seconds_left"].get<double>());
  }
  if (!j["needs_help"].empty()) {
    s += "Needs help:\n";
    for (const auto& h : j["needs_help"])
      s += fmt::format("  {}  {}\n", h["task_id"].get<std::string>(), h["title"].get<std::string>());
  }
  if (!j["skipped"].empty()) {
    s += "Skipped:\n";
    for (const auto& k : j["skipped"]) {
      if (k.contains("task_id")) s += fmt::format("  {}  {}\n", k["task_id"].get<std::string>(), k["reason"].get<std::string>());
      else s += fmt::format("  domain {} ({} ready)  {}\n", k["domain"].get<std::string>(), k["ready"].get<int64_t>(),
                            k["reason"].get<std::string>());
    }
  }
  if (!j["recent_failures"].empty()) {
    s += "Recent failures:\n";
    for (const auto& f : j["recent_failures"])
      s += fmt::format("  {}  {}  {}  {}\n", f["at"].get<std::string>(), f["task_id"].get<std::string>(),
                       f["kind"].get<std::string>(), f["detail"].get<std::string>());
  }
  return s;
}

}  // namespace pipeline
