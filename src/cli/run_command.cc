// `pipeline run`: the scheduler. Options override the [scheduler] section of
// config.toml; see docs/scheduler.md.
#include <fmt/format.h>

#include <cstdio>
#include <map>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/preflight_report.h"
#include "config/config.h"
#include "agent/run_store.h"
#include "sched/event_loop.h"
#include "external/scheduler.h"
#include "integrate/outcome.h"
#include "sched/sched_sql.h"
#include "sched/waiting.h"
#include "sched/scheduler.h"
#include "sched/scheduler_lock.h"
#include "store/root.h"
#include "sched/prompt.h"
#include "sandbox/memory_limit.h"
#include "sandbox/settings.h"
#include "slurm/executor_config.h"
#include "slurm/launcher.h"
#include "tasks/task_queries.h"
#include "util/clock.h"
#include "util/files.h"
#include "util/log.h"
#include "util/text.h"

namespace pipeline {

namespace {

struct RunFlags {
  std::optional<std::string> root;
  std::optional<double> interval;
  std::optional<int> max_active, max_retries;
  std::optional<int64_t> reserve, max_cost, max_task_cost, timeout, max_iter;
  std::optional<std::string> toolchain, provider, model, task_cmd, fund_cmd, agentd_cmd, parent, task_id, base,
      after_run, profile;
  bool once = false, dry_run = false, until_idle = false, quiet = false;
};

void LogEvent(FILE* out, const SchedEvent& e) {
  std::string line = "[" + FormatIso8601(e.at) + "] " + e.kind;
  if (e.task_id) line += " task=" + *e.task_id;
  if (e.run_id) line += " run=" + *e.run_id;
  if (!e.detail.empty()) line += " " + SingleLine(e.detail);
  fprintf(out, "%s\n", line.c_str());
  fflush(out);
}

// Says what matters once: a task's skip line only when its reason changes
// (not on every step), and a failed verify or integration with the command
// that failed and the run's own error.
class EventLog {
 public:
  EventLog(FILE* out, bool quiet) : out_(out), quiet_(quiet) {}
  void set_db(Db* db) { db_ = db; }
  void operator()(const SchedEvent& e) {
    if (e.kind == "adopt") ++adopted_;
    if (e.task_id && (e.kind == "started" || e.kind == "would-start")) skip_said_.erase(*e.task_id);
    if (e.kind == "skip" && e.task_id) {
      auto [it, fresh] = skip_said_.emplace(*e.task_id, e.detail);
      if (!fresh && it->second == e.detail) return;
      it->second = e.detail;
    }
    if (quiet_) return;
    SchedEvent shown = e;
    if (e.kind == "harvest" && e.run_id && db_) shown.detail = Explain(e);
    LogEvent(out_, shown);
  }
  int adopted() const { return adopted_; }

 private:
  // "verify failed" -> "verify `make test` exited 2: <the run's error>".
  std::string Explain(const SchedEvent& e) {
    auto run = GetRun(*db_, *e.run_id);
    if (!run.ok() || run->phase == "dev" || run->status == RunStatus::kDone || run->argv.empty()) return e.detail;
    // Waiting (on the person's checkout) is a state, said in the detail; the
    // worker's exit code for it is no news.
    if (run->exit_code == kExitWaiting) return e.detail;
    std::string what = run->phase + " `" + Join(run->argv, " ") + "` ";
    if (run->exit_code) what += "exited " + std::to_string(*run->exit_code);
    else what += RunStatusName(run->status);
    if (run->error && !run->error->empty()) {
      // The monitor's words for its child ("`make test` exited with code 2: <stderr tail>"): keep the tail.
      std::string error = *run->error;
      size_t colon = error.find(": ");
      std::string head = error.substr(0, colon);
      if (head.find(" exited with code ") != std::string::npos || head.find(" killed by signal ") != std::string::npos)
        error = colon == std::string::npos ? "" : error.substr(colon + 2);
      if (!error.empty()) what += ": " + SingleLine(TruncateUtf8(error, 400));
    }
    return e.detail + " (" + what + ")";
  }

  FILE* out_;
  bool quiet_;
  Db* db_ = nullptr;
  int adopted_ = 0;
  std::map<std::string, std::string> skip_said_;  // task -> the skip reason last logged
};

std::string TimeTag() { return "[" + FormatIso8601(SystemClock().Now()) + "] "; }

// One of the scheduler's own lines on stderr, stamped like its event lines.
void Say(const std::string& text) { LogLine(TimeTag() + text); }

Status Apply(const RunFlags& f, SchedulerOptions* o) {
  if (f.interval) o->interval_s = *f.interval;
  if (f.max_active) o->max_active = *f.max_active;
  if (f.max_retries) o->max_retries = *f.max_retries;
  if (f.reserve) o->reserve_cents = *f.reserve;
  if (f.max_cost) o->max_cost_cents = *f.max_cost;
  if (f.max_task_cost) o->max_task_cost_cents = *f.max_task_cost;
  if (f.timeout) o->timeout_s = *f.timeout;
  if (f.max_iter) o->max_iter = *f.max_iter;
  if (f.toolchain) o->toolchain = *f.toolchain;
  if (f.provider) o->provider = *f.provider;
  if (f.model) o->model = *f.model;
  if (f.task_cmd) o->task_cmd = *f.task_cmd;
  if (f.fund_cmd) o->fund_cmd = *f.fund_cmd;
  if (f.agentd_cmd) o->agentd_cmd = *f.agentd_cmd;
  if (f.parent) o->parent = *f.parent;
  if (f.task_id) o->task_id = *f.task_id;
  if (f.base) o->base = *f.base;
  if (f.profile) o->profile = *f.profile;
  if (f.after_run) {
    if (*f.after_run == "verify") o->after_run = AfterRun::kVerify;
    else if (*f.after_run == "review") o->after_run = AfterRun::kReview;
    else return InvalidArgument("--after-run must be verify or review");
  }
  o->once = f.once;
  o->dry_run = f.dry_run;
  o->until_idle = f.until_idle;
  // Frontmatter values are written unquoted: one line each.
  for (const auto& [k, v] : {std::pair<const char*, std::optional<std::string>>{"--toolchain", o->toolchain},
                             {"--provider", o->provider},
                             {"--model", o->model}})
    if (v && !CheckFrontmatterValue(k, *v).ok())
      return InvalidArgument(std::string(k) + " must be one line without control characters");
  return ValidateOptions(*o);
}

void AddRunFlags(CLI::App& app, RunFlags* f) {
  app.add_option("--root", f->root, "Pipeline root (default: $PIPELINE_ROOT, else the nearest .pipeline)");
  app.add_option("--interval", f->interval, "Fallback poll in seconds (external backends only; default 60)");
  app.add_option("--max-active", f->max_active, "Dev runs at once, all domains (default 8)");
  app.add_option("--reserve-cents", f->reserve, "Budget held per run (default 300)");
  app.add_option("--toolchain", f->toolchain, "Prompt frontmatter toolchain (default: none)");
  app.add_option("--provider", f->provider, "Prompt frontmatter provider");
  app.add_option("--model", f->model, "Model for dev runs");
  app.add_option("--timeout", f->timeout, "Seconds before a dev run is stopped");
  app.add_option("--max-iter", f->max_iter, "Agent iterations per run");
  app.add_option("--max-cost", f->max_cost, "Cents a run may spend (default: --reserve-cents)");
  app.add_flag("--once", f->once, "One step (harvest + start), then exit");
  app.add_flag("--dry-run", f->dry_run, "Print every action one step would take; change nothing");
  app.add_flag("--until-idle", f->until_idle, "Exit when nothing runs and nothing can start");
  app.add_option("--task-cmd", f->task_cmd, "External `task` program (with --fund-cmd and --agentd-cmd)");
  app.add_option("--fund-cmd", f->fund_cmd, "External `fund` program");
  app.add_option("--agentd-cmd", f->agentd_cmd, "External `agentd` program");
  app.add_option("--parent", f->parent, "Only tasks under this epic");
  app.add_option("--task-id", f->task_id, "Only this task");
  app.add_option("--max-retries", f->max_retries, "Failed runs per patchset before needs-help (default 3)");
  app.add_option("--max-task-cost", f->max_task_cost,
                 "Cents per task before needs-help (default: " + std::to_string(SchedulerOptions::kTaskCostHolds) +
                     " x --reserve-cents; 0: no cap)");
  app.add_option("--base", f->base, "Branch to integrate into (default: the repository's current branch)");
  app.add_option("--after-run", f->after_run, "After a dev run: verify (default) or review");
  app.add_option("--profile", f->profile, "Agent profile for dev runs");
  app.add_flag("--quiet", f->quiet, "No log lines");
}

// The end of --until-idle: one line of totals; when an integration waits
// (a dirty checkout of the base), one more saying on what, and exit code
// kExitWaiting, so a script can tell "nothing left" from "waiting on you".
int IdleSummary(Db& db, const SchedulerOptions& options, int64_t default_budget, Micros began, bool quiet) {
  // The work is over: a summary that cannot be read (the store busy) is a
  // log line, not a failed run.
  auto waiting = ComputeWaiting(db, WaitingInput{options, default_budget}, SystemClock());
  if (!waiting.ok()) {
    Say("idle (no summary: " + waiting.message() + ")");
    return 0;
  }
  auto by_status = CountTasksByStatus(db, /*with_epics=*/false);
  int64_t done = by_status.ok() ? (*by_status)[TaskStatus::kDone] : 0;
  auto failed_runs = FailedRunsSince(db, began);
  int64_t failed = failed_runs.ok() ? *failed_runs : 0;
  int help = 0, waits = 0;
  std::string first_wait;
  const WaitReason* integration = nullptr;
  for (const auto& w : *waiting) {
    if (w.kind == WaitKind::kNeedsPerson) ++help;
    else if (w.kind != WaitKind::kRunning) {
      ++waits;
      if (first_wait.empty()) first_wait = w.task_id + " " + w.reason;
    }
    if (w.kind == WaitKind::kIntegrationWaiting && !integration) integration = &w;
  }
  if (!quiet) {
    std::string line = "idle: " + std::to_string(done) + " done, " + std::to_string(failed) +
                       " failed run(s) this time, " + std::to_string(help) + " need help, " + std::to_string(waits) +
                       " waiting";
    if (!first_wait.empty()) line += " (first: " + TruncateUtf8(first_wait, 200) + ")";
    Say(line);
  }
  if (integration) {
    LogLine("pipeline run: " + integration->task_id + " " + integration->reason + "; the next `pipeline run` retries it");
    return kExitWaiting;
  }
  return 0;
}

}  // namespace

// [executor] kind = "slurm": every dev and verify run is a batch job
// (slurm/launcher.h); the client and launcher live as long as the scheduler.
struct SlurmExecution {
  std::unique_ptr<slurm::Client> client;
  std::unique_ptr<slurm::Launcher> launcher;

  Status Open(const Config& config, const RootPaths& paths, Db& db, bool dry_run, SchedulerEnv* env) {
    PL_ASSIGN_OR_RETURN(auto executor, slurm::SlurmExecutorFromConfig(config, paths, SelfExePath()));
    if (!executor) return slurm::CheckNoRunsLeftOnACluster(db, SystemClock(), dry_run);
    client = std::make_unique<slurm::Client>(RealProcessRunner(), slurm::ClientOptions{.slurm_conf = executor->slurm_conf});
    PL_RETURN_IF_ERROR(client->Ping());
    if (!dry_run) PL_RETURN_IF_ERROR(MakeDirs(executor->options.shared_dir + "/runs"));
    launcher = std::make_unique<slurm::Launcher>(db, paths, SystemClock(), *client, executor->options);
    env->launcher = launcher.get();
    return Status::Ok();
  }
};

namespace {

// What would fail every task is refused here, before anything starts; what
// confinement this kernel gives is said at every start (what is off is a
// note, said with the other checks).
int CheckBeforeRun(const SchedulerSetup& setup, const SchedulerOptions& options, int64_t default_budget,
                   bool quiet) {
  auto checks = PreflightFor(setup, options, default_budget);
  if (int rc = ReportBeforeRun(checks); rc != 0) return rc;
  for (const auto& c : checks)
    if (c.check == "sandbox" && c.level == CheckLevel::kOk && !quiet) Say("sandbox: " + c.message);
  return 0;
}

// --dry-run reads the store without a lock and changes no file; a real run
// takes the scheduler lock first.
Result<std::unique_ptr<Db>> OpenStoreToRun(const RootPaths& paths, bool dry_run, std::optional<SchedulerLock>* lock) {
  if (dry_run) return Db::OpenReadOnly(paths.db());
  PL_ASSIGN_OR_RETURN(SchedulerLock l, SchedulerLock::Acquire(paths));
  lock->emplace(std::move(l));
  return OpenStore(paths);
}

// No start eats into the memory kept free for the machine (sandbox.min_free_mb).
Status AddMemoryGate(const Config& config, SchedulerEnv* env) {
  PL_ASSIGN_OR_RETURN(auto sandbox, LoadSandboxSettings(config));
  if (sandbox.min_free_bytes > 0)
    env->memory_gate = [reserve = sandbox.min_free_bytes]() { return CheckFreeMemory(reserve); };
  return Status::Ok();
}

// A restart: say once what the previous scheduler left.
void SayWhatWasLeft(Db& db, const EventLog& event_log) {
  auto ended = UnharvestedEndedRuns(db);
  size_t to_harvest = ended.ok() ? ended->size() : 0;
  if (event_log.adopted() > 0 || to_harvest > 0)
    Say(fmt::format("restart: adopted {} running run(s); {} ended run(s) to harvest", event_log.adopted(),
                    to_harvest));
}

// Ctrl-C / SIGTERM: the runs go on under their monitors.
void SayStopped(const Scheduler& sched) {
  std::string line = "stopped: ";
  if (sched.active().empty()) {
    line += "nothing was running";
  } else {
    line += std::to_string(sched.active().size()) + " run(s) still running (";
    bool first = true;
    for (const auto& [id, a] : sched.active()) {
      line += (first ? "" : ", ") + a.task_id + " " + a.phase;
      first = false;
    }
    line += "); the next `pipeline run` adopts them";
  }
  Say(line);
}

}  // namespace

int RunCommand(const Args& args) {
  CLI::App app("Work the backlog: harvest ended runs, verify, integrate, start dev runs in free slots",
               "pipeline run");
  RunFlags f;
  AddRunFlags(app, &f);
  if (auto rc = ParseArgs(app, args)) return *rc;

  auto setup = LoadSchedulerSetup(f.root);
  if (!setup.ok()) return Fail(setup.error());
  SchedulerOptions& options = setup->options;
  if (Status s = Apply(f, &options); !s.ok()) return Fail(s);
  auto default_budget = setup->config.IntOr("fund.default_budget_cents", 0);
  if (!default_budget.ok()) return Fail(default_budget.error());
  if (!options.external())
    if (int rc = CheckBeforeRun(*setup, options, *default_budget, f.quiet); rc != 0) return rc;

  EventLog event_log(options.dry_run ? stdout : stderr, f.quiet && !options.dry_run);
  auto on_event = [&](const SchedEvent& e) { event_log(e); };
  if (options.external()) return RunExternal(options, setup->paths, on_event);

  std::optional<SchedulerLock> lock;
  auto db = OpenStoreToRun(setup->paths, options.dry_run, &lock);
  if (!db.ok()) return Fail(db.error());
  SchedulerEnv env;
  env.default_budget_cents = *default_budget;
  env.on_event = on_event;
  if (Status s = AddMemoryGate(setup->config, &env); !s.ok()) return Fail(s);
  event_log.set_db(db->get());
  SlurmExecution slurm;
  if (Status s = slurm.Open(setup->config, setup->paths, **db, options.dry_run, &env); !s.ok()) return Fail(s);
  Scheduler sched(options, **db, setup->paths, SystemClock(), env);
  if (Status s = sched.Recover(); !s.ok()) return Fail(s);
  if (!options.dry_run && !f.quiet) SayWhatWasLeft(**db, event_log);
  if (options.dry_run || options.once) {
    auto r = sched.Step();
    if (!r.ok()) return Fail(r.error());
    if (options.dry_run) fprintf(stdout, "dry run: nothing was changed\n");
    else sched.WaitForClaims(10'000'000);
    return 0;
  }
  LoopOptions lo;
  lo.until_idle = options.until_idle;
  Micros began = SystemClock().Now();
  auto end = RunLoop(sched, **db, setup->paths, lo, nullptr, [&](const Status& err) {
    LogEvent(stderr, SchedEvent{SystemClock().Now(), "error", std::nullopt, std::nullopt, "step failed: " + err.message()});
  });
  sched.WaitForClaims(10'000'000);
  if (!end.ok()) return Fail(end.error());
  if (*end == LoopEnd::kStopped) {
    SayStopped(sched);
    return 0;
  }
  return IdleSummary(**db, options, *default_budget, began, f.quiet);
}

}  // namespace pipeline
