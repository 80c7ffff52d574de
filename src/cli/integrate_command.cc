// `pipeline integrate-task`: the merge-queue worker the scheduler starts as a
// supervised run (phase "integrate"); also usable by hand. And `pipeline
// review approve|reject`: the review gate.
//
// integrate-task's last stdout line is always one JSON object (see
// integrate/outcome.h); its logs go to stderr.
#include <signal.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "config/config.h"
#include "git/git.h"
#include "integrate/verify_config.h"
#include "integrate/worker.h"
#include "sched/review_gate.h"
#include "sched/scheduler_options.h"
#include "store/root.h"
#include "tasks/task_store.h"

namespace pipeline {
namespace {

void LogToStderr() {
  static bool done = false;
  if (done) return;
  done = true;
  auto logger = spdlog::stderr_color_mt("integrate");
  logger->set_pattern("%^%l%$ %v");
  spdlog::set_default_logger(logger);
}

// Errors, too, end with the JSON line the scheduler reads.
int Report(const IntegrateOutcome& o) {
  if (o.kind == IntegrateOutcome::Kind::kError) Fail(Error{o.error_kind, o.reason});
  PrintJson(o.ToJson());
  return o.ExitCode();
}

int ReportError(const Error& e) { return Report(IntegrateOutcome::Failed(e)); }

struct TaskFacts {
  std::string title;
  std::string ns;
};

Result<TaskFacts> ReadTask(const RootPaths& paths, const std::string& id) {
  PL_ASSIGN_OR_RETURN(auto db, OpenStore(paths));
  TaskStore store(*db, SystemClock());
  PL_ASSIGN_OR_RETURN(Task t, store.Get(id));
  return TaskFacts{t.title, t.ns.value_or("")};
}

// A test-only crash point: PIPELINE_TEST_CRASH_AT=after-ref kills the worker
// after the base ref moved and before the checkout followed;
// before-ref kills it after the check, before the base moved.
IntegrateHooks CrashHooksFromEnv() {
  IntegrateHooks hooks;
  const char* at = getenv("PIPELINE_TEST_CRASH_AT");
  if (!at) return hooks;
  std::string where = at;
  if (where == "after-ref") hooks.after_ref = [] { raise(SIGKILL); };
  if (where == "before-ref") hooks.before_advance = [](int) { raise(SIGKILL); };
  return hooks;
}

}  // namespace

int IntegrateTaskCommand(const Args& args) {
  LogToStderr();
  CLI::App app("Integrate one task's branch into the base branch (the merge-queue worker)",
               "pipeline integrate-task");
  std::string task_id, base, mode;
  std::optional<std::string> root;
  bool no_check = false;
  double wait_s = 0;
  app.add_option("task_id", task_id, "The task whose branch pipeline/<id> to integrate")->required();
  app.add_option("--base", base, "Base branch (default: the repository's current branch)");
  app.add_option("--mode", mode, "merge (a merge commit) or squash (one commit); default: integrate.mode, else merge");
  app.add_option("--root", root, "Pipeline root directory (default: $PIPELINE_ROOT, else the nearest .pipeline)");
  app.add_flag("--no-check", no_check, "Do not run the verify command on the merge result");
  app.add_option("--wait", wait_s, "Seconds to wait for another integration into the same base (default 0)")
      ->check(CLI::NonNegativeNumber);
  if (auto rc = ParseArgs(app, args)) {
    if (*rc != 0) PrintJson(IntegrateOutcome::Failed(InvalidArgument("usage")).ToJson());
    return *rc;
  }

  auto paths = FindRoot(root);
  if (!paths.ok()) return ReportError(paths.error());
  auto config = Config::Load(paths->config());
  if (!config.ok()) return ReportError(config.error());
  auto task = ReadTask(*paths, task_id);
  if (!task.ok()) return ReportError(task.error());

  if (mode.empty()) {
    auto m = config->StringOr("integrate.mode", "merge");
    if (!m.ok()) return ReportError(m.error());
    mode = *m;
  }
  Git git(RealProcessRunner(), paths->repo());
  if (base.empty()) {
    auto b = git.CurrentBranch();
    if (!b.ok()) return ReportError(b.error());
    base = *b;
  }

  IntegrateRequest req;
  req.task_id = task_id;
  req.title = task->title;
  req.base = base;
  req.mode = mode;
  req.lock_wait_ms = static_cast<int64_t>(wait_s * 1000);
  if (!no_check) {
    auto opts = OptionsFromConfig(*config);
    if (!opts.ok()) return ReportError(opts.error());
    const std::string domain = task->ns.empty() ? std::string() : DomainFor(*opts, task->ns);
    auto check = VerifyCommandFor(*config, domain, task->ns);
    if (!check.ok()) return ReportError(check.error());
    req.check = *check;
    req.check_env = {{"PIPELINE_TASK_ID", task_id},  {"PIPELINE_BASE", base},
                     {"PIPELINE_NAMESPACE", task->ns}, {"PIPELINE_DOMAIN", domain},
                     {"PIPELINE_REPO", paths->repo()}};
  }
  Integrator integrator(git, RealProcessRunner(), *paths);
  return Report(integrator.Run(req, CrashHooksFromEnv()));
}

// `pipeline review approve ID` / `pipeline review reject ID WHY`.
int ReviewCommand(const Args& args) {
  CLI::App app("Approve or reject work waiting in review", "pipeline review");
  app.require_subcommand(1);
  app.fallthrough();  // --root and --json may follow the subcommand
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  std::string id, why, author = "human";
  auto* approve = app.add_subcommand("approve", "review -> verified: it will be integrated");
  approve->add_option("id", id, "Task id")->required();
  approve->add_option("--author", author, "Who approves: human, system or agent:<role> (default human)");
  auto* reject = app.add_subcommand("reject", "review -> open as a new patchset, with the reason as feedback");
  reject->add_option("id", id, "Task id")->required();
  reject->add_option("why", why, "Why: given to the next development run")->required();
  reject->add_option("--author", author, "Who rejects: human, system or agent:<role> (default human)");
  if (auto rc = ParseArgs(app, args)) return *rc;

  auto paths = FindRoot(flags.root);
  if (!paths.ok()) return Fail(paths.error());
  auto db = OpenStore(*paths);
  if (!db.ok()) return Fail(db.error());
  const bool approving = approve->parsed();
  // A rejection obeys the same patchset cap as the scheduler's own.
  int64_t max_patchsets = kDefaultMaxPatchsets;
  if (!approving) {
    auto config = Config::Load(paths->config());
    if (!config.ok()) return Fail(config.error());
    auto options = OptionsFromConfig(*config);
    if (!options.ok()) return Fail(options.error());
    max_patchsets = options->max_patchsets;
  }
  auto task = approving ? ApproveTask(**db, SystemClock(), id, author)
                        : RejectTask(**db, SystemClock(), id, why, author, max_patchsets);
  if (!task.ok()) return Fail(task.error());
  if (flags.json) {
    PrintJson(TaskToJson(*task));
  } else {
    printf("%s: review -> %s (patchset %lld)\n", task->id.c_str(), TaskStatusName(task->status),
           static_cast<long long>(task->patchset));
  }
  return 0;
}

}  // namespace pipeline
