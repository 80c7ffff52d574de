#include "external/scheduler.h"

#include <unistd.h>

#include <map>
#include <set>

#include "ledger/money.h"
#include "sched/wait_loop.h"
#include "external/tools.h"
#include "sched/prompt.h"
#include "sched/run_id.h"
#include "sched/scheduler_lock.h"
#include "sched/sched_sql.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline {

namespace {

struct ExtRow {
  std::string run_id, task_id, domain, ns, state, status, error, spend_form;
  double cost_cents = 0;
  Micros created_at = 0;
};

class ExternalScheduler {
 public:
  ExternalScheduler(const SchedulerOptions& o, Db& db, const RootPaths& paths, Clock& clock,
                    const std::function<void(const SchedEvent&)>& on_event)
      : o_(o), db_(db), paths_(paths), clock_(clock), tools_(o, RealProcessRunner()), on_event_(on_event),
        dry_(o.dry_run) {}

  Status Recover();
  // Returns true when something happened (for --until-idle).
  Result<bool> Step(int* active);

 private:
  void Emit(const std::string& kind, const std::optional<std::string>& task, const std::optional<std::string>& run,
            const std::string& detail) {
    if (on_event_) on_event_(SchedEvent{clock_.Now(), kind, task, run, detail});
  }
  Result<std::vector<ExtRow>> Rows(const std::string& where);
  Status SetState(const std::string& run_id, const std::string& from, const std::string& to,
                  const std::string& extra_sql = "", const std::vector<std::string>& binds = {});
  Status Harvest(bool* acted);
  Status Finalize(const ExtRow& row);
  Result<bool> StartOne(const ExternalTask& t, const std::string& domain, std::string* skip);
  Result<int64_t> FailuresOf(const std::string& task_id, Micros* last_end);

  const SchedulerOptions& o_;
  Db& db_;
  const RootPaths& paths_;
  Clock& clock_;
  ExternalTools tools_;
  std::function<void(const SchedEvent&)> on_event_;
  bool dry_;
  bool has_table_ = true;
  std::set<std::string> reported_no_ns_;
};

Result<std::vector<ExtRow>> ExternalScheduler::Rows(const std::string& where) {
  std::vector<ExtRow> out;
  if (!has_table_) return out;
  PL_ASSIGN_OR_RETURN(Stmt s, db_.Prepare(
      "SELECT run_id, task_id, domain, IFNULL(namespace, ''), state, IFNULL(status, ''), IFNULL(error, ''), "
      "IFNULL(spend_form, ''), cost_cents, created_at FROM external_runs WHERE " + where + " ORDER BY created_at"));
  while (true) {
    PL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back({s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5), s.Text(6), s.Text(7),
                   s.Double(8), s.Int(9)});
  }
  return out;
}

Status ExternalScheduler::SetState(const std::string& run_id, const std::string& from, const std::string& to,
                                   const std::string& extra_sql, const std::vector<std::string>& binds) {
  return db_.Write([&]() -> Status {
    PL_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("UPDATE external_runs SET state = ?1, updated_at = ?2" + extra_sql +
                                            " WHERE run_id = ?3 AND state = ?4"));
    s.Bind(1, to);
    s.Bind(2, clock_.Now());
    s.Bind(3, run_id);
    s.Bind(4, from);
    for (size_t i = 0; i < binds.size(); ++i) s.Bind(static_cast<int>(5 + i), binds[i]);
    return s.Run();
  });
}

Status ExternalScheduler::Recover() {
  if (dry_) {
    auto probe = db_.Prepare("SELECT 1 FROM external_runs LIMIT 1");
    has_table_ = probe.ok();
    return Status::Ok();
  }
  // Intents: `agentd run` may or may not have started them. Ask agentd.
  PL_ASSIGN_OR_RETURN(auto intents, Rows("state = 'intent'"));
  for (const auto& row : intents) {
    AgentStatusAnswer a = tools_.AgentStatus(row.run_id);
    if (a.state != AgentState::kUnknown) {
      PL_RETURN_IF_ERROR(SetState(row.run_id, "intent", "running"));
      Emit("adopt", row.task_id, row.run_id, "agentd knows the run: tracking it");
      continue;
    }
    PL_RETURN_IF_ERROR(SetState(row.run_id, "intent", "start-failed", ", error = ?5", {"never started: " + a.reason}));
    if (tools_.Claim(row.task_id, "in-progress", "open"))
      tools_.Comment(row.task_id, "Pipeline scheduler: run " + row.run_id + " never started; re-opening");
    Emit("recover", row.task_id, row.run_id, "never started: " + a.reason);
  }
  // A fallback spend interrupted by a crash may or may not have been recorded:
  // count it as recorded (a lost record, never a second charge).
  PL_ASSIGN_OR_RETURN(auto charging, Rows("state = 'charging'"));
  for (const auto& row : charging)
    PL_RETURN_IF_ERROR(SetState(row.run_id, "charging", "charged", ", spend_form = ?5",
                                {"unknown (interrupted fallback spend; not repeated)"}));
  return Status::Ok();
}

Status ExternalScheduler::Harvest(bool* acted) {
  PL_ASSIGN_OR_RETURN(auto running, Rows("state = 'running'"));
  for (const auto& row : running) {
    AgentStatusAnswer a = tools_.AgentStatus(row.run_id);
    if (a.state == AgentState::kRunning) continue;
    if (a.state == AgentState::kUnknown) {
      Emit("keep", row.task_id, row.run_id, "status unclear, asking again later: " + a.reason);
      continue;
    }
    *acted = true;
    if (dry_) {
      Emit("would-harvest", row.task_id, row.run_id, a.status + " cost=" +
                                                         std::to_string(CentsForSettlement(a.cost_cents)) + "c");
      continue;
    }
    PL_RETURN_IF_ERROR(db_.Write([&]() -> Status {
      Stmt& s = db_.Cached(
          "UPDATE external_runs SET state = 'ended', status = ?, cost_cents = ?, error = ?, ended_at = ?, "
          "updated_at = ? WHERE run_id = ? AND state = 'running'");
      Micros now = clock_.Now();
      s.BindAll(a.status, a.cost_cents, a.error, now, now, row.run_id);
      return s.Run();
    }));
  }
  if (dry_) return Status::Ok();
  PL_ASSIGN_OR_RETURN(auto ended, Rows("state IN ('ended', 'charged')"));
  for (const auto& row : ended) {
    *acted = true;
    PL_RETURN_IF_ERROR(Finalize(row));
  }
  return Status::Ok();
}

Result<int64_t> ExternalScheduler::FailuresOf(const std::string& task_id, Micros* last_end) {
  if (!has_table_) return int64_t{0};
  Stmt& s = db_.Cached(
      "SELECT COUNT(*), IFNULL(MAX(ended_at), 0) FROM external_runs WHERE task_id = ? AND status IS NOT NULL "
      "AND status NOT IN ('done', 'needs-input') AND created_at > IFNULL((SELECT MAX(created_at) FROM external_runs "
      "WHERE task_id = ?1 AND status = 'done'), 0)");
  s.BindAll(task_id);
  PL_ASSIGN_OR_RETURN(bool row, s.Step());
  int64_t n = row ? s.Int(0) : 0;
  if (last_end) *last_end = row ? s.Int(1) : 0;
  s.Reset();
  return n;
}

Status ExternalScheduler::Finalize(const ExtRow& row_in) {
  ExtRow row = row_in;
  int64_t cents = CentsForSettlement(row.cost_cents);
  if (row.state == "ended") {
    auto form = tools_.Spend(row.domain, row.task_id, row.run_id, cents, [&]() {
      // Record "charging" before a form that fund cannot deduplicate.
      return SetState(row.run_id, "ended", "charging").ok();
    });
    row.spend_form = form.value_or("failed");
    std::string from = form && *form != "spend" ? "charging" : "ended";
    if (!form) {
      // Either form 1 failed and the fallbacks too (state may be charging), or it timed out.
      (void)SetState(row.run_id, "ended", "charged", ", spend_form = ?5", {row.spend_form});
      from = "charging";
    }
    PL_RETURN_IF_ERROR(SetState(row.run_id, from, "charged", ", spend_form = ?5", {row.spend_form}));
    if (!form) Emit("error", row.task_id, row.run_id, "every fund spend form failed for " + std::to_string(cents) + "c");
  }
  // Move the task on: compare-and-set from in-progress (W16), failures back to work (W8).
  std::string to;
  if (row.status == "done") to = "review";  // external tools have no verify/integrate here: a person reviews
  else if (row.status == "needs-input") to = "needs-help";
  else {
    PL_ASSIGN_OR_RETURN(int64_t failures, FailuresOf(row.task_id, nullptr));
    to = failures >= o_.max_retries ? "needs-help" : "open";
  }
  bool moved = tools_.Claim(row.task_id, "in-progress", to);
  std::string text = "Pipeline scheduler: run=" + row.run_id + " domain=" + row.domain + " status=" + row.status +
                     " cost=" + std::to_string(cents) + "c";
  if (!row.error.empty()) text += " error=" + SingleLine(TruncateUtf8(row.error, 400));
  if (row.spend_form == "failed") text += " (fund-spend=failed)";
  tools_.Comment(row.task_id, text);
  if (!moved)
    tools_.Comment(row.task_id, "Pipeline scheduler: task was no longer in-progress; left as it is (wanted " + to + ")");
  PL_RETURN_IF_ERROR(SetState(row.run_id, "charged", "finished"));
  Emit("harvest", row.task_id, row.run_id, row.status + " -> " + (moved ? to : "left as is"));
  return Status::Ok();
}

Result<bool> ExternalScheduler::StartOne(const ExternalTask& t, const std::string& domain, std::string* skip) {
  std::string run_id = UniqueRunId(domain, t.id, clock_.Now() / 1'000'000, [&](const std::string& id) {
    if (!has_table_) return false;
    Stmt& s = db_.Cached("SELECT 1 FROM external_runs WHERE run_id = ?");
    s.BindAll(id);
    auto r = s.Step();
    bool taken = !r.ok() || *r;
    s.Reset();
    return taken;
  });
  if (dry_) {
    Emit("would-start", t.id, run_id, "domain=" + domain + " (budget not checked under --dry-run)");
    return true;
  }
  BudgetAnswer b = tools_.CheckBudget(domain, o_.reserve_cents);
  if (b.verdict != BudgetVerdict::kAllowed) {
    *skip = "no budget in " + domain + ": " + b.reason;
    return false;
  }
  if (!tools_.Claim(t.id, "open", "in-progress")) {
    *skip = "not claimable";
    return false;
  }
  std::optional<std::string> shown = tools_.Show(t.id);
  std::string prompt_path = JoinPath(paths_.prompts_dir(), run_id + ".md");
  PromptInput in;
  in.toolchain = o_.toolchain;
  in.workspace = AbsolutePath(".");
  in.run_id = run_id;
  in.task_id = t.id;
  in.provider = o_.provider;
  in.model = o_.model;
  in.max_iter = o_.max_iter;
  in.max_cost_cents = o_.MaxCostCents();
  in.title = t.title.value_or(t.id);
  in.domain = domain;
  in.ns = t.ns.value_or("");
  in.task_json = shown.value_or("(task show JSON unavailable)");
  in.comment_command = o_.task_cmd + " comment";
  Status written = MakeDirs(paths_.prompts_dir());
  // No fsync: see Scheduler::StartDev.
  if (written.ok()) written = WriteFileAtomic(prompt_path, RenderDevPrompt(in), FileSync::kNoFsync);
  if (written.ok())
    written = db_.Write([&]() -> Status {
      Stmt& s = db_.Cached(
          "INSERT INTO external_runs (run_id, task_id, domain, namespace, state, created_at, updated_at) "
          "VALUES (?, ?, ?, ?, 'intent', ?, ?)");
      Micros now = clock_.Now();
      s.BindAll(run_id, t.id, domain, t.ns, now, now);
      return s.Run();
    });
  if (!written.ok()) {
    if (tools_.Claim(t.id, "in-progress", "open"))
      tools_.Comment(t.id, "Pipeline scheduler: could not prepare the run: " + SingleLine(written.message()));
    *skip = "could not prepare the run: " + written.message();
    return false;
  }
  Status ran = tools_.AgentRun(prompt_path, run_id);
  if (!ran.ok()) {
    // agentd may have started it anyway (W3): ask before giving the claim back.
    AgentStatusAnswer a = tools_.AgentStatus(run_id);
    if (a.state == AgentState::kUnknown) {
      PL_RETURN_IF_ERROR(SetState(run_id, "intent", "start-failed", ", error = ?5", {ran.message()}));
      if (tools_.Claim(t.id, "in-progress", "open"))
        tools_.Comment(t.id, "Pipeline scheduler: failed to spawn agentd run: " + SingleLine(ran.message()));
      *skip = "agentd run failed: " + ran.message();
      return false;
    }
  }
  PL_RETURN_IF_ERROR(SetState(run_id, "intent", "running"));
  tools_.Comment(t.id, "Pipeline scheduler: started run=" + run_id + " domain=" + domain);
  Emit("started", t.id, run_id, "domain=" + domain);
  return true;
}

Result<bool> ExternalScheduler::Step(int* active_out) {
  bool acted = false;
  PL_RETURN_IF_ERROR(Harvest(&acted));
  PL_ASSIGN_OR_RETURN(auto active, Rows("state IN ('intent', 'running', 'ended', 'charging', 'charged')"));
  std::map<std::string, int> busy;
  for (const auto& r : active) ++busy[r.domain];
  int slots = o_.max_active - static_cast<int>(active.size());
  *active_out = static_cast<int>(active.size());
  if (slots <= 0) return acted;
  auto ready = tools_.Ready();
  if (!ready.ok()) {
    Emit("error", std::nullopt, std::nullopt, ready.message());
    return acted;
  }
  for (const auto& why : ready->skipped) Emit("skip", std::nullopt, std::nullopt, "task ready: " + why);
  std::set<std::string> refused;
  Micros now = clock_.Now();
  for (const auto& t : ready->tasks) {
    if (slots <= 0) break;
    if (!ExternalTaskIsOpen(t)) continue;
    if (o_.task_id && t.id != *o_.task_id) continue;
    if (!t.ns) {
      if (reported_no_ns_.insert(t.id).second) Emit("skip", t.id, std::nullopt, "no namespace");
      continue;
    }
    std::string domain = DomainFor(o_, *t.ns);
    if (busy[domain] >= o_.MaxActiveFor(domain)) {
      Emit("skip", t.id, std::nullopt, "domain busy: " + domain);
      continue;
    }
    if (refused.count(domain)) continue;
    Micros last_end = 0;
    PL_ASSIGN_OR_RETURN(int64_t failures, FailuresOf(t.id, &last_end));
    if (failures > 0 && last_end + BackoffMicros(o_.backoff_base_s, failures) > now) {
      Emit("skip", t.id, std::nullopt, "in back-off");
      continue;
    }
    std::string skip;
    PL_ASSIGN_OR_RETURN(bool started, StartOne(t, domain, &skip));
    if (started) {
      --slots;
      ++busy[domain];
      ++*active_out;
      acted = true;
    } else {
      Emit("skip", t.id, std::nullopt, skip);
      if (StartsWith(skip, "no budget")) refused.insert(domain);
    }
  }
  return acted;
}

}  // namespace

int RunExternal(const SchedulerOptions& o, const RootPaths& paths,
                const std::function<void(const SchedEvent&)>& on_event) {
  auto fail = [](const Status& s) {
    fprintf(stderr, "pipeline: %s\n", SingleLine(s.message()).c_str());
    return ExitCodeFor(s.kind());
  };
  std::unique_ptr<Db> db;
  std::optional<SchedulerLock> lock;
  if (o.dry_run) {
    auto ro = Db::OpenReadOnly(paths.db());
    if (!ro.ok()) return fail(ro.status());
    db = std::move(*ro);
  } else {
    auto l = SchedulerLock::Acquire(paths);
    if (!l.ok()) return fail(l.status());
    lock.emplace(std::move(*l));
    auto opened = OpenStore(paths);
    if (!opened.ok()) return fail(opened.status());
    db = std::move(*opened);
  }
  ExternalScheduler sched(o, *db, paths, SystemClock(), on_event);
  if (Status s = sched.Recover(); !s.ok()) return fail(s);
  // External backends cannot be watched: poll them every interval.
  Waiter waiter;
  if (!o.once && !o.dry_run) waiter.CatchStopSignals();
  while (true) {
    int active = 0;
    auto acted = sched.Step(&active);
    if (!acted.ok()) return fail(acted.status());
    if (o.once || o.dry_run) break;
    if (o.until_idle && active == 0 && !*acted) break;
    auto w = waiter.Wait(nullptr, static_cast<Micros>(o.interval_s * 1e6));
    if (!w.ok()) return fail(w.status());
    if (w->stop) break;  // SIGINT/SIGTERM
  }
  if (o.dry_run) printf("dry run: nothing was changed\n");
  return 0;
}

}  // namespace pipeline
