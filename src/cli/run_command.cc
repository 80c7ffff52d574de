// `pipeline run`: the scheduler. Options override the [scheduler] section of
// config.toml; see docs/scheduler.md.
#include <cstdio>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/preflight_report.h"
#include "config/config.h"
#include "sched/event_loop.h"
#include "external/scheduler.h"
#include "sched/scheduler.h"
#include "sched/scheduler_lock.h"
#include "store/root.h"
#include "sched/prompt.h"
#include "util/clock.h"
#include "util/files.h"
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

}  // namespace

int RunCommand(const Args& args) {
  CLI::App app("Work the backlog: harvest ended runs, verify, integrate, start dev runs in free slots",
               "pipeline run");
  RunFlags f;
  app.add_option("--root", f.root, "Pipeline root (default: $PIPELINE_ROOT, else the nearest .pipeline)");
  app.add_option("--interval", f.interval, "Fallback poll in seconds (external backends only; default 60)");
  app.add_option("--max-active", f.max_active, "Dev runs at once, all domains (default 8)");
  app.add_option("--reserve-cents", f.reserve, "Budget held per run (default 300)");
  app.add_option("--toolchain", f.toolchain, "Prompt frontmatter toolchain (default: none)");
  app.add_option("--provider", f.provider, "Prompt frontmatter provider");
  app.add_option("--model", f.model, "Model for dev runs");
  app.add_option("--timeout", f.timeout, "Seconds before a dev run is stopped");
  app.add_option("--max-iter", f.max_iter, "Agent iterations per run");
  app.add_option("--max-cost", f.max_cost, "Cents a run may spend (default: --reserve-cents)");
  app.add_flag("--once", f.once, "One step (harvest + start), then exit");
  app.add_flag("--dry-run", f.dry_run, "Print every action one step would take; change nothing");
  app.add_flag("--until-idle", f.until_idle, "Exit when nothing runs and nothing can start");
  app.add_option("--task-cmd", f.task_cmd, "External `task` program (with --fund-cmd and --agentd-cmd)");
  app.add_option("--fund-cmd", f.fund_cmd, "External `fund` program");
  app.add_option("--agentd-cmd", f.agentd_cmd, "External `agentd` program");
  app.add_option("--parent", f.parent, "Only tasks under this epic");
  app.add_option("--task-id", f.task_id, "Only this task");
  app.add_option("--max-retries", f.max_retries, "Failed runs per patchset before needs-help (default 3)");
  app.add_option("--max-task-cost", f.max_task_cost, "Cents per task before needs-help (default: " + std::to_string(SchedulerOptions::kTaskCostHolds) +
                     " x --reserve-cents; 0: no cap)");
  app.add_option("--base", f.base, "Branch to integrate into (default: the repository's current branch)");
  app.add_option("--after-run", f.after_run, "After a dev run: verify (default) or review");
  app.add_option("--profile", f.profile, "Agent profile for dev runs");
  app.add_flag("--quiet", f.quiet, "No log lines");
  if (auto rc = ParseArgs(app, args)) return *rc;

  auto setup = LoadSchedulerSetup(f.root);
  if (!setup.ok()) return Fail(setup.error());
  const RootPaths* paths = &setup->paths;
  const Config* config = &setup->config;
  SchedulerOptions* options = &setup->options;
  if (Status s = Apply(f, &*options); !s.ok()) return Fail(s);
  auto default_budget = config->IntOr("fund.default_budget_cents", 0);
  if (!default_budget.ok()) return Fail(default_budget.error());
  // What would fail every task is refused here, before anything starts.
  if (!options->external())
    if (int rc = ReportBeforeRun(PreflightFor(*setup, *options, *default_budget)); rc != 0) return rc;

  FILE* log = options->dry_run ? stdout : stderr;
  auto on_event = [&](const SchedEvent& e) {
    if (!f.quiet || options->dry_run) LogEvent(log, e);
  };

  if (options->external()) return RunExternal(*options, *paths, on_event);

  std::optional<SchedulerLock> lock;
  std::unique_ptr<Db> db;
  if (options->dry_run) {
    auto ro = Db::OpenReadOnly(paths->db());
    if (!ro.ok()) return Fail(ro.error());
    db = std::move(*ro);
  } else {
    auto l = SchedulerLock::Acquire(*paths);
    if (!l.ok()) return Fail(l.error());
    lock.emplace(std::move(*l));
    auto opened = OpenStore(*paths);
    if (!opened.ok()) return Fail(opened.error());
    db = std::move(*opened);
  }
  SchedulerEnv env;
  env.default_budget_cents = *default_budget;
  env.on_event = on_event;
  Scheduler sched(*options, *db, *paths, SystemClock(), env);
  if (Status s = sched.Recover(); !s.ok()) return Fail(s);
  if (options->dry_run || options->once) {
    auto r = sched.Step();
    if (!r.ok()) return Fail(r.error());
    if (options->dry_run) fprintf(stdout, "dry run: nothing was changed\n");
    else sched.WaitForClaims(10'000'000);
    return 0;
  }
  LoopOptions lo;
  lo.until_idle = options->until_idle;
  Status s = RunLoop(sched, *db, *paths, lo, nullptr, [&](const Status& err) {
    LogEvent(stderr, SchedEvent{SystemClock().Now(), "error", std::nullopt, std::nullopt, "step failed: " + err.message()});
  });
  sched.WaitForClaims(10'000'000);
  if (!s.ok()) return Fail(s);
  return 0;
}

}  // namespace pipeline
