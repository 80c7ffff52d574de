// `pipeline integrate-task`: the merge-queue worker the scheduler starts as a
// supervised run (phase "integrate"); also usable by hand. And `pipeline
// review approve|reject`: the review gate.
//
// integrate-task's last stdout line is always one JSON object (see
// integrate/outcome.h); its logs go to stderr.
#include <signal.h>

#include <cstdlib>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/dispatch.h"
#include "config/config.h"
#include "config/verify.h"
#include "git/git.h"
#include "integrate/worker.h"
#include "sched/review_gate.h"
#include "sched/scheduler_options.h"
#include "store/root.h"
#include "tasks/task_store.h"

namespace pipeline {
namespace {

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

struct IntegrateFlags {
  std::string task_id, base, mode;
  std::optional<std::string> root;
  bool no_check = false;
  double wait_s = 0;
};

// Everything the worker needs, from the flags, the store and the config.
Result<IntegrateRequest> RequestFrom(const IntegrateFlags& f, const RootPaths& paths, Git& git) {
  PL_ASSIGN_OR_RETURN(Config config, Config::Load(paths.config()));
  PL_ASSIGN_OR_RETURN(TaskFacts task, ReadTask(paths, f.task_id));
  IntegrateRequest req;
  req.task_id = f.task_id;
  req.title = task.title;
  req.base = f.base;
  req.mode = f.mode;
  req.lock_wait_ms = static_cast<int64_t>(f.wait_s * 1000);
  if (req.mode.empty()) {
    PL_ASSIGN_OR_RETURN(req.mode, config.StringOr("integrate.mode", "squash"));
  }
  if (req.base.empty()) {
    PL_ASSIGN_OR_RETURN(req.base, git.CurrentBranch());
  }
  if (f.no_check) return req;
  PL_ASSIGN_OR_RETURN(SchedulerOptions opts, OptionsFromConfig(config));
  const std::string domain = task.ns.empty() ? std::string() : DomainFor(opts, task.ns);
  req.check = opts.verify.For(domain, task.ns);  // what the verify phase ran (config/verify.h)
  req.check_env = {{"PIPELINE_TASK_ID", f.task_id},   {"PIPELINE_BASE", req.base},
                   {"PIPELINE_NAMESPACE", task.ns}, {"PIPELINE_DOMAIN", domain},
                   {"PIPELINE_REPO", paths.repo()}};
  return req;
}

}  // namespace

int IntegrateTaskCommand(const Args& args) {
  CLI::App app("Integrate one task's branch into the base branch (the merge-queue worker)",
               "pipeline integrate-task");
  IntegrateFlags f;
  app.add_option("task_id", f.task_id, "The task whose branch pipeline/<id> to integrate")->required();
  app.add_option("--base", f.base, "Base branch (default: the repository's current branch)");
  app.add_option("--mode", f.mode, "squash (one commit) or merge (that commit merged); default: integrate.mode, else squash");
  app.add_option("--root", f.root, "Pipeline root directory (default: $PIPELINE_ROOT, else the nearest .pipeline)");
  app.add_flag("--no-check", f.no_check, "Do not run the verify command on the merge result");
  app.add_option("--wait", f.wait_s, "Seconds to wait for another integration into the same base (default 0)")
      ->check(CLI::NonNegativeNumber);
  if (auto rc = ParseArgs(app, args)) {
    if (*rc != 0) PrintJson(IntegrateOutcome::Failed(InvalidArgument("usage")).ToJson());
    return *rc;
  }
  auto paths = FindRoot(f.root);
  if (!paths.ok()) return ReportError(paths.error());
  Git git(RealProcessRunner(), paths->repo());
  auto req = RequestFrom(f, *paths, git);
  if (!req.ok()) return ReportError(req.error());
  Integrator integrator(git, RealProcessRunner(), *paths);
  return Report(integrator.Run(*req, CrashHooksFromEnv()));
}

namespace {

// `pipeline review approve ID` and `pipeline review reject ID WHY`: one
// handler for both answers.
int Review(const Args& args, bool approving) {
  CLI::App app(approving ? "review -> verified: it will be integrated"
                         : "review -> open as a new patchset, with the reason as feedback",
               approving ? "pipeline review approve" : "pipeline review reject");
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  std::string id, why, author = "human";
  app.add_option("id", id, "Task id")->required();
  if (!approving) app.add_option("why", why, "Why: given to the next development run")->required();
  app.add_option("--author", author,
                 std::string("Who ") + (approving ? "approves" : "rejects") +
                     ": human, system or agent:<role> (default human)");
  if (auto rc = ParseArgs(app, args)) return *rc;

  auto paths = FindRoot(flags.root);
  if (!paths.ok()) return Fail(paths.error());
  auto db = OpenStore(*paths);
  if (!db.ok()) return Fail(db.error());
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

}  // namespace

int ReviewApproveCommand(const Args& args) { return Review(args, true); }
int ReviewRejectCommand(const Args& args) { return Review(args, false); }

int ReviewCommand(const Args& args) {
  static const CommandGroup kReview = {
      "pipeline review",
      "Approve or reject work waiting in review",
      {{"approve", "review -> verified: it will be integrated", ReviewApproveCommand},
       {"reject", "review -> open as a new patchset, with the reason as feedback", ReviewRejectCommand}},
  };
  return Dispatch(kReview, args);
}

}  // namespace pipeline
