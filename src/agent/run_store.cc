#include "agent/run_store.h"

#include <signal.h>

#include <set>

#include "proc/process.h"

namespace pipeline {
namespace {

constexpr const char* kColumns =
    "run_id, task_id, domain, phase, patchset, profile, status, workspace, prompt_path, argv_json, "
    "timeout_s, max_cost_cents, max_iter, monitor_pid, monitor_start, agent_pid, created_at, started_at, "
    "ended_at, exit_code, term_signal, cost_cents, turns, head_before, head_after, error, stdout_path, "
    "stderr_path, kill_requested, harvested_at";

std::optional<int> OptInt32(const Stmt& s, int col) {
  auto v = s.OptInt(col);
  return v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
}

RunRecord FromRow(const Stmt& s) {
  RunRecord r;
  r.run_id = s.Text(0);
  r.task_id = s.OptText(1);
  r.domain = s.OptText(2);
  r.phase = s.Text(3);
  r.patchset = s.Int(4);
  r.profile = s.Text(5);
  r.status = ParseRunStatus(s.Text(6)).value_or(RunStatus::kFailed);
  r.workspace = s.OptText(7).value_or("");
  r.prompt_path = s.OptText(8).value_or("");
  if (auto spec = s.OptText(9)) {
    auto j = nlohmann::json::parse(*spec, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
      if (j.contains("argv") && j["argv"].is_array())
        for (const auto& a : j["argv"])
          if (a.is_string()) r.argv.push_back(a.get<std::string>());
      if (j.contains("model") && j["model"].is_string()) r.model = j["model"].get<std::string>();
      if (j.contains("env") && j["env"].is_object())
        for (const auto& [k, v] : j["env"].items())
          if (v.is_string()) r.env[k] = v.get<std::string>();
    }
  }
  r.timeout_s = s.OptInt(10);
  r.max_cost_cents = s.OptInt(11);
  r.max_iter = s.OptInt(12);
  r.monitor_pid = static_cast<pid_t>(s.OptInt(13).value_or(0));
  r.monitor_start = static_cast<uint64_t>(s.OptInt(14).value_or(0));
  r.agent_pid = static_cast<pid_t>(s.OptInt(15).value_or(0));
  r.created_at = s.Int(16);
  r.started_at = s.OptInt(17);
  r.ended_at = s.OptInt(18);
  r.exit_code = OptInt32(s, 19);
  r.term_signal = OptInt32(s, 20);
  r.cost_cents = s.Double(21);
  r.turns = s.Int(22);
  r.head_before = s.OptText(23);
  r.head_after = s.OptText(24);
  r.error = s.OptText(25);
  r.stdout_path = s.OptText(26).value_or("");
  r.stderr_path = s.OptText(27).value_or("");
  r.kill_requested = s.Int(28) != 0;
  r.harvested_at = s.OptInt(29);
  return r;
}

Result<std::vector<RunRecord>> Query(Db& db, const std::string& where, const std::string& bind) {
  PL_ASSIGN_OR_RETURN(Stmt * s, db.CachedText(std::string("SELECT ") + kColumns + " FROM runs " + where));
  if (!bind.empty()) s->Bind(1, bind);
  std::vector<RunRecord> out;
  PL_RETURN_IF_ERROR(EachRow(*s, [&](Stmt& row) { out.push_back(FromRow(row)); }));
  s->Reset();
  return out;
}

// Runs one UPDATE inside a transaction and reports how many rows it changed.
Result<int> Update(Db& db, Stmt& s) {
  int changed = 0;
  PL_RETURN_IF_ERROR(db.Write([&]() -> Status {
    PL_RETURN_IF_ERROR(s.Run());
    changed = db.Changes();
    return Status::Ok();
  }));
  return changed;
}

std::string RootOfDb(const Db& db) {
  const std::string& p = db.path();
  size_t slash = p.find_last_of('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

}  // namespace

std::string RunDir(const RootPaths& paths, const std::string& run_id) { return paths.runs_dir() + "/" + run_id; }

Status InsertRun(Db& db, const RunSpec& spec, Clock& clock) {
  PL_RETURN_IF_ERROR(ValidateRunId(spec.run_id));
  if (spec.workspace.empty() || spec.workspace[0] != '/')
    return InvalidArgument("workspace must be an absolute path: " + spec.workspace);
  if (spec.argv.empty() && spec.prompt_path.empty())
    return InvalidArgument("a run needs a prompt file or an explicit command");
  nlohmann::json req = nlohmann::json::object();
  req["argv"] = spec.argv;
  if (spec.model) req["model"] = *spec.model;
  req["env"] = spec.env;
  std::string dir = RunDir(RootPaths{RootOfDb(db)}, spec.run_id);
  return db.Write([&]() -> Status {
    Stmt& exists = db.Cached("SELECT 1 FROM runs WHERE run_id = ?");
    exists.Bind(1, spec.run_id);
    PL_ASSIGN_OR_RETURN(bool found, exists.Step());
    exists.Reset();  // a statement left on a row would pin this connection's snapshot
    if (found) return Conflict("run " + spec.run_id + " already exists");
    Stmt& ins = db.Cached(
        "INSERT INTO runs (run_id, task_id, domain, phase, patchset, profile, status, workspace, prompt_path, "
        "argv_json, timeout_s, max_cost_cents, max_iter, created_at, stdout_path, stderr_path) "
        "VALUES (?, ?, ?, ?, ?, ?, 'starting', ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    ins.BindAll(spec.run_id, spec.task_id, spec.domain, spec.phase, spec.patchset, spec.profile, spec.workspace,
                spec.prompt_path, req.dump(), spec.timeout_s, spec.max_cost_cents, spec.max_iter, clock.Now(),
                dir + "/stdout.log", dir + "/stderr.log");
    return ins.Run();
  });
}

Result<RunRecord> GetRun(Db& db, const std::string& run_id) {
  PL_ASSIGN_OR_RETURN(auto rows, Query(db, "WHERE run_id = ?", run_id));
  if (rows.empty()) return NotFound("no run " + run_id);
  return rows.front();
}

Result<std::vector<RunRecord>> ListRuns(Db& db, bool active_only) {
  return Query(db,
               std::string(active_only ? "WHERE status IN ('starting', 'running') " : "") +
                   "ORDER BY created_at DESC, run_id",
               "");
}

Result<std::vector<std::string>> ReapDeadMonitors(Db& db, Clock& clock) {
  std::vector<std::string> changed;
  PL_ASSIGN_OR_RETURN(auto active, ListRuns(db, /*active_only=*/true));
  // Runs a cluster launcher has: its launcher decides (one query, not one per run).
  PL_ASSIGN_OR_RETURN(std::vector<ClusterRunRef> cluster_runs, ActiveClusterRuns(db));
  std::set<std::string> on_cluster;
  for (const ClusterRunRef& c : cluster_runs) on_cluster.insert(c.run_id);
  Micros now = clock.Now();
  for (const auto& r : active) {
    std::string error;
    if (on_cluster.count(r.run_id)) continue;
    if (r.monitor_pid > 0) {
      if (ProcessAlive(r.monitor_pid, r.monitor_start)) continue;
      error = "monitor died";
    } else if (r.status == RunStatus::kStarting && now - r.created_at > kNeverStartedMicros) {
      error = "never started";
    } else {
      continue;
    }
    // Re-read inside the CAS: the monitor may have finished between our read and now.
    Stmt& s = db.Cached(
        "UPDATE runs SET status = 'failed', error = ?, ended_at = ? "
        "WHERE run_id = ? AND status IN ('starting', 'running') AND IFNULL(monitor_pid, 0) = ?");
    s.BindAll(error, now, r.run_id, static_cast<int64_t>(r.monitor_pid));
    PL_ASSIGN_OR_RETURN(int n, Update(db, s));
    if (n == 0) continue;
    // The agent outlives a dead monitor: nobody would stop it or read its pipes.
    if (r.agent_pid > 0 && GroupAlive(r.agent_pid)) SignalGroup(r.agent_pid, SIGKILL);
    changed.push_back(r.run_id);
  }
  return changed;
}

Result<RunRecord> ClaimRunForMonitor(Db& db, const std::string& run_id, pid_t pid, uint64_t start_time) {
  Stmt& s = db.Cached(
      "UPDATE runs SET monitor_pid = ?, monitor_start = ? "
      "WHERE run_id = ? AND status = 'starting' AND monitor_pid IS NULL");
  s.BindAll(static_cast<int64_t>(pid), static_cast<int64_t>(start_time), run_id);
  PL_ASSIGN_OR_RETURN(int n, Update(db, s));
  if (n == 0) return Refused("run " + run_id + " is not waiting to start");
  return GetRun(db, run_id);
}

Status ClaimRunForClusterJob(Db& db, const std::string& run_id, const std::string& job_id) {
  Stmt& s = db.Cached(
      "UPDATE runs SET cluster_job = ? "
      "WHERE run_id = ? AND status = 'starting' AND monitor_pid IS NULL AND cluster_job IS NULL");
  s.BindAll(job_id, run_id);
  PL_ASSIGN_OR_RETURN(int n, Update(db, s));
  if (n == 0) return Refused("run " + run_id + " is not waiting to start");
  return Status::Ok();
}

Status MarkRunForCluster(Db& db, const std::string& run_id, const std::string& executor) {
  Stmt& s = db.Cached(
      "UPDATE runs SET executor = ? "
      "WHERE run_id = ? AND status = 'starting' AND monitor_pid IS NULL AND cluster_job IS NULL");
  s.BindAll(executor, run_id);
  PL_ASSIGN_OR_RETURN(int n, Update(db, s));
  if (n == 0) return Refused("run " + run_id + " is not waiting to start");
  return Status::Ok();
}

Result<bool> RunIsOnCluster(Db& db, const std::string& run_id) {
  Stmt& s = db.Cached("SELECT cluster_job IS NOT NULL OR executor IS NOT NULL FROM runs WHERE run_id = ?");
  s.Bind(1, run_id);
  PL_ASSIGN_OR_RETURN(bool row, s.Step());
  bool on = row && s.Int(0) != 0;
  s.Reset();
  return on;
}

Result<std::vector<ClusterRunRef>> ActiveClusterRuns(Db& db) {
  Stmt& s = db.Cached(
      "SELECT run_id, IFNULL(cluster_job, ''), kill_requested FROM runs WHERE status IN ('starting', 'running') "
      "AND (cluster_job IS NOT NULL OR executor IS NOT NULL) ORDER BY created_at");
  std::vector<ClusterRunRef> out;
  while (true) {
    PL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ClusterRunRef{s.Text(0), s.Text(1), s.Int(2) != 0});
  }
  return out;
}

Result<std::optional<std::string>> ClusterJobOfRun(Db& db, const std::string& run_id) {
  Stmt& s = db.Cached("SELECT cluster_job FROM runs WHERE run_id = ?");
  s.Bind(1, run_id);
  PL_ASSIGN_OR_RETURN(bool row, s.Step());
  std::optional<std::string> job;
  if (row && !s.IsNull(0)) job = s.Text(0);
  s.Reset();
  return job;
}

Status MarkRunRunning(Db& db, const std::string& run_id, pid_t agent_pid, Micros started_at,
                      const std::optional<std::string>& head_before, const std::string& profile) {
  Stmt& s = db.Cached(
      "UPDATE runs SET status = 'running', agent_pid = ?, started_at = ?, head_before = ?, profile = ? "
      "WHERE run_id = ? AND status = 'starting'");
  s.BindAll(static_cast<int64_t>(agent_pid), started_at, head_before, profile, run_id);
  PL_ASSIGN_OR_RETURN(int n, Update(db, s));
  if (n == 0) return Refused("run " + run_id + " is no longer starting");
  return Status::Ok();
}

Status UpdateRunProgress(Db& db, const std::string& run_id, double cost_cents, int64_t turns) {
  Stmt& s = db.Cached(
      "UPDATE runs SET cost_cents = ?, turns = ? WHERE run_id = ? AND status IN ('starting', 'running')");
  s.BindAll(cost_cents, turns, run_id);
  return Update(db, s).status();
}

Status FinishRun(Db& db, const std::string& run_id, const RunOutcome& o) {
  Stmt& s = db.Cached(
      "UPDATE runs SET status = ?, exit_code = ?, term_signal = ?, ended_at = ?, cost_cents = ?, turns = ?, "
      "head_after = ?, error = ? WHERE run_id = ? AND status IN ('starting', 'running')");
  s.Bind(1, RunStatusName(o.status));
  if (o.exit_code) s.Bind(2, *o.exit_code); else s.BindNull(2);
  if (o.term_signal) s.Bind(3, *o.term_signal); else s.BindNull(3);
  s.Bind(4, o.ended_at).Bind(5, o.cost_cents).Bind(6, o.turns).Bind(7, o.head_after).Bind(8, o.error);
  s.Bind(9, run_id);
  PL_ASSIGN_OR_RETURN(int n, Update(db, s));
  if (n == 0) return Refused("run " + run_id + " already ended");
  return Status::Ok();
}

Status FailRun(Db& db, const std::string& run_id, const std::string& error, Micros now) {
  RunOutcome o;
  o.status = RunStatus::kFailed;
  o.error = error;
  o.ended_at = now;
  return FinishRun(db, run_id, o);
}

Status MarkKillRequested(Db& db, const std::string& run_id) {
  Stmt& s = db.Cached(
      "UPDATE runs SET kill_requested = 1 WHERE run_id = ? AND status IN ('starting', 'running')");
  s.Bind(1, run_id);
  PL_ASSIGN_OR_RETURN(int n, Update(db, s));
  if (n == 0) {
    PL_ASSIGN_OR_RETURN(RunRecord r, GetRun(db, run_id));
    return Refused("run " + run_id + " already ended (" + RunStatusName(r.status) + ")");
  }
  return Status::Ok();
}

bool KillRequested(Db& db, const std::string& run_id) {
  Stmt& s = db.Cached("SELECT kill_requested FROM runs WHERE run_id = ?");
  s.Bind(1, run_id);
  auto row = s.Step();
  bool requested = row.ok() && *row && s.Int(0) != 0;
  s.Reset();  // a statement left on a row would pin this connection's snapshot
  return requested;
}

}  // namespace pipeline
