#include "sched/status_snapshot.h"

#include <fmt/format.h>

#include <map>

#include "agent/run_store.h"
#include "ledger/ledger.h"
#include "sandbox/memory_limit.h"
#include "sandbox/protections.h"
#include "sched/launcher.h"
#include "sched/scheduler_lock.h"
#include "sched/waiting.h"
#include "tasks/task_queries.h"
#include "tasks/task_store.h"
#include "util/text.h"

namespace pipeline {

using nlohmann::json;

Result<json> StatusSnapshot(Db& db, const RootPaths& paths, const SchedulerOptions& o, Clock& clock,
                            int64_t default_budget_cents, const SandboxSettings* sandbox) {
  json j;
  Micros now = clock.Now();
  j["root"] = paths.root;
  j["at"] = FormatIso8601(now);
  auto holder = SchedulerLockHolder(paths);
  j["scheduler"] = {{"running", holder.has_value()}};
  if (holder) j["scheduler"]["pid"] = *holder;
  Status st = db.Read([&]() -> Status {
    json counts = json::object();
    PL_ASSIGN_OR_RETURN(auto by_status, CountTasksByStatus(db, /*with_epics=*/false));
    for (TaskStatus s : kAllTaskStatuses) counts[TaskStatusName(s)] = by_status[s];
    j["counts"] = counts;

    // Active runs (the seed's shape, plus ours).
    json active = json::array();
    std::map<std::string, std::string> queued;  // task id -> why its run's cluster job waits
    PL_ASSIGN_OR_RETURN(auto runs, ListRuns(db, /*active_only=*/true));
    for (const auto& r : runs) {
      std::optional<std::string> ns;
      std::string title;
      if (r.task_id) {
        auto task = TaskStore(db, clock).Get(*r.task_id);
        if (task.ok()) {
          ns = task->ns;
          title = task->title;
        }
      }
      Micros started = r.started_at.value_or(r.created_at);
      json a = {{"arTaskId", r.task_id.value_or("")},
                {"arRunId", r.run_id},
                {"arDomain", r.domain.value_or("")},
                {"arNamespace", ns.value_or("")},
                {"arStartedAt", FormatIso8601(started)},
                {"title", title},
                {"phase", r.phase},
                {"state", RunStatusName(r.status)},
                {"age_s", static_cast<double>(now - started) / 1e6},
                {"cost_cents", r.cost_cents}};
      // A cluster job's pending reason, as the scheduler last recorded it.
      PL_ASSIGN_OR_RETURN(auto reason, ClusterQueueReason(db, r.task_id.value_or(""), r.run_id));
      if (reason) {
        a["queued"] = *reason;
        if (r.task_id) queued[*r.task_id] = *reason;
      }
      active.push_back(a);
    }
    j["active_runs"] = active;
    j["count"] = active.size();

    // Budgets.
    Ledger ledger(db, clock, default_budget_cents);
    PL_ASSIGN_OR_RETURN(auto reports, ledger.Report());
    json budgets = json::array();
    for (const auto& d : reports) {
      budgets.push_back({{"domain", d.domain},
                         {"budget_cents", d.budget_cents},
                         {"held_cents", d.held_cents},
                         {"spent_cents", d.spent_cents},
                         {"remaining_cents", d.remaining_cents},
                         {"overrun_blocked", d.overrun_blocked}});
    }
    j["budgets"] = budgets;

    // Recent failures (a waiting integration is a state, shown under
    // waiting, not a failure), and the latest events of every kind.
    json failures = json::array();
    PL_ASSIGN_OR_RETURN(Stmt f, db.Prepare(
        "SELECT at, task_id, run_id, kind, detail FROM events WHERE kind IN "
        "('failure', 'error', 'integrate-failed', 'left') ORDER BY id DESC LIMIT 10"));
    auto event = [](Stmt& s) {
      return json{{"at", FormatIso8601(s.Int(0))},
                  {"task_id", s.OptText(1).value_or("")},
                  {"run_id", s.OptText(2).value_or("")},
                  {"kind", s.Text(3)},
                  {"detail", s.OptText(4).value_or("")}};
    };
    PL_RETURN_IF_ERROR(EachRow(f, [&](Stmt& s) { failures.push_back(event(s)); }));
    j["recent_failures"] = failures;
    json events = json::array();
    PL_ASSIGN_OR_RETURN(Stmt e, db.Prepare("SELECT at, task_id, run_id, kind, detail FROM events ORDER BY id DESC LIMIT 10"));
    PL_RETURN_IF_ERROR(EachRow(e, [&](Stmt& s) { events.push_back(event(s)); }));
    j["events"] = events;

    // Why every task that is not done waits, and the views derived from it.
    TaskStore store(db, clock);
    PL_ASSIGN_OR_RETURN(auto ready, store.Ready());
    j["ready"] = ready.size();
    WaitingInput in{o, default_budget_cents};
    if (sandbox && sandbox->min_free_bytes > 0)
      in.memory_gate = [reserve = sandbox->min_free_bytes]() { return CheckFreeMemory(reserve); };
    PL_ASSIGN_OR_RETURN(auto waiting, ComputeWaiting(db, in, clock));
    json wj = json::array(), backoff = json::array(), help = json::array(), skipped = json::array();
    for (auto& w : waiting) {
      if (auto q = queued.find(w.task_id); q != queued.end() && w.kind == WaitKind::kRunning)
        w.reason = q->second + " (" + w.reason + ")";
      wj.push_back(WaitReasonToJson(w));
      switch (w.kind) {
        case WaitKind::kBackoff:
          backoff.push_back({{"task_id", w.task_id},
                             {"until", w.detail["until"]},
                             {"attempt", w.detail["attempt"]},
                             {"reason", w.reason}});
          break;
        case WaitKind::kNeedsPerson: {
          json h = {{"task_id", w.task_id}, {"title", w.title}, {"reason", w.reason}};
          if (w.detail.contains("question")) h["question"] = w.detail["question"];
          if (w.detail.contains("why")) h["why"] = w.detail["why"];
          help.push_back(h);
          break;
        }
        case WaitKind::kNoNamespace:
        case WaitKind::kNoBudget:
        case WaitKind::kDomainBusy:
        case WaitKind::kMaxActive:
        case WaitKind::kPaused:
        case WaitKind::kMemory:
          skipped.push_back({{"task_id", w.task_id}, {"kind", WaitKindName(w.kind)}, {"reason", w.reason}});
          break;
        default: break;
      }
    }
    j["waiting"] = wj;
    j["backoff"] = backoff;
    j["needs_help"] = help;
    j["skipped"] = skipped;
    if (sandbox) j["sandbox"] = {{"enabled", sandbox->enabled}, {"off", OffProtections(*sandbox)}, {"line", OffLine(*sandbox)}};
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return j;
}

std::string SchedulerLine(const json& j) {
  const json& sc = j["scheduler"];
  if (sc.value("running", false)) return fmt::format("scheduler: running (pid {})", sc["pid"].get<int64_t>());
  return "scheduler: not running (start it with `pipeline run`)";
}

std::string FormatStatus(const json& j) {
  std::string s = fmt::format("Pipeline scheduler status (root={})\n", j["root"].get<std::string>());
  s += SchedulerLine(j) + "\n";
  if (std::string off = j.contains("sandbox") ? j["sandbox"].value("line", "") : ""; !off.empty()) s += off + "\n";
  s += "Tasks:";
  for (const auto& [k, v] : j["counts"].items()) s += fmt::format(" {}={}", k, v.get<int64_t>());
  s += fmt::format(" (ready={})\n", j["ready"].get<int64_t>());
  s += fmt::format("Active runs: {}\n", j["count"].get<size_t>());
  for (const auto& a : j["active_runs"])
    s += fmt::format("  - {}  run={}  domain={}  phase={}  age={:.0f}s  cost={:.0f}c{}\n",
                     a["arTaskId"].get<std::string>(), a["arRunId"].get<std::string>(),
                     a["arDomain"].get<std::string>(), a["phase"].get<std::string>(), a["age_s"].get<double>(),
                     a["cost_cents"].get<double>(), a.contains("queued") ? "  " + a["queued"].get<std::string>() : "");
  if (!j["budgets"].empty()) {
    s += "Budgets (cents):\n";
    for (const auto& b : j["budgets"])
      s += fmt::format("  {:<24} budget={} held={} spent={} remaining={}{}\n", b["domain"].get<std::string>(),
                       b["budget_cents"].get<int64_t>(), b["held_cents"].get<int64_t>(),
                       b["spent_cents"].get<int64_t>(), b["remaining_cents"].get<int64_t>(),
                       b["overrun_blocked"].get<bool>() ? " (blocked: overrun)" : "");
  }
  if (!j["needs_help"].empty()) {
    s += "Needs help:\n";
    for (const auto& h : j["needs_help"])
      s += fmt::format("  {}  {}: {}\n", h["task_id"].get<std::string>(), h["title"].get<std::string>(),
                       h["reason"].get<std::string>());
  }
  bool header = false;
  for (const auto& w : j["waiting"]) {
    std::string kind = w["kind"].get<std::string>();
    if (kind == "needs-person" || kind == "running") continue;
    if (!header) s += "Waiting:\n";
    header = true;
    s += fmt::format("  {}  {}\n", w["task_id"].get<std::string>(), w["reason"].get<std::string>());
  }
  if (!j["recent_failures"].empty()) {
    s += "Recent failures:\n";
    for (const auto& f : j["recent_failures"])
      s += fmt::format("  {}  {}  {}  {}\n", f["at"].get<std::string>(), f["task_id"].get<std::string>(),
                       f["kind"].get<std::string>(), SingleLine(TruncateUtf8(f["detail"].get<std::string>(), 300)));
  }
  return s;
}

}  // namespace pipeline
