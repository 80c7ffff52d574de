// `pipeline integrate-batch`: the batched merge-queue worker the scheduler
// starts as a supervised run (phase "integrate"); also usable by hand. Its
// stdout is one JSON line per change, then one summary line (see
// integrate/batch_worker.h); its logs go to stderr.
//
// And `pipeline integrate --recheck-base`: asks the running scheduler to check
// a base that failed its check again now, instead of at the next period.
#include <signal.h>

#include <cstdlib>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "config/config.h"
#include "git/git.h"
#include "integrate/batch_worker.h"
#include "sched/sched_sql.h"
#include "sched/scheduler_options.h"
#include "store/root.h"
#include "tasks/task_store.h"

namespace pipeline {
namespace {

int ReportBatch(const BatchWorkResult& r) {
  if (r.outcome == "error") Fail(Error{ErrorKind::kIO, r.reason});
  for (const BatchTaskResult& t : r.tasks) PrintJson(t.ToJson());
  PrintJson(r.SummaryJson());
  return r.ExitCode();
}

int BatchError(const Error& e) {
  BatchWorkResult r;
  r.reason = e.message;
  int rc = Fail(e);
  PrintJson(r.SummaryJson());
  return rc;
}

struct BatchFlags {
  std::vector<std::string> ids;
  std::string base, mode, green_base;
  std::optional<std::string> root;
  std::optional<int> parallel;
  bool no_check = false, recheck_base = false;
  double wait_s = 0;
};

Result<BatchWorkRequest> BatchRequestFrom(const BatchFlags& f, const RootPaths& paths, Git& git) {
  PL_ASSIGN_OR_RETURN(Config config, Config::Load(paths.config()));
  PL_ASSIGN_OR_RETURN(SchedulerOptions opts, OptionsFromConfig(config));
  BatchWorkRequest req;
  req.base = f.base;
  req.mode = f.mode.empty() ? (opts.integrate_mode.empty() ? "squash" : opts.integrate_mode) : f.mode;
  req.parallel = f.parallel.value_or(opts.integrate_parallel);
  req.green_base = f.green_base;
  req.recheck_base = f.recheck_base;
  req.lock_wait_ms = static_cast<int64_t>(f.wait_s * 1000);
  if (req.base.empty()) {
    PL_ASSIGN_OR_RETURN(req.base, git.CurrentBranch());
  }
  PL_ASSIGN_OR_RETURN(auto db, OpenStore(paths));
  TaskStore store(*db, SystemClock());
  for (const std::string& id : f.ids) {
    PL_ASSIGN_OR_RETURN(Task t, store.Get(id));
    BatchTask bt;
    bt.task_id = id;
    bt.title = t.title;
    const std::string ns = t.ns.value_or("");
    const std::string domain = ns.empty() ? std::string() : DomainFor(opts, ns);
    if (!f.no_check) {
      if (auto cmd = opts.verify.For(domain, ns)) bt.checks.push_back(*cmd);
    }
    bt.check_env = {{"PIPELINE_NAMESPACE", ns}, {"PIPELINE_DOMAIN", domain}};
    req.tasks.push_back(std::move(bt));
  }
  return req;
}

// PIPELINE_TEST_CRASH_AT=before-ref|after-ref: SIGKILL at that point.
BatchWorkHooks CrashHooksFromEnv() {
  BatchWorkHooks hooks;
  const char* at = getenv("PIPELINE_TEST_CRASH_AT");
  if (!at) return hooks;
  std::string where = at;
  if (where == "after-ref") hooks.after_ref = [] { raise(SIGKILL); };
  if (where == "before-ref") hooks.before_ref = [] { raise(SIGKILL); };
  return hooks;
}

}  // namespace

int IntegrateBatchCommand(const Args& args) {
  CLI::App app("Integrate a batch of task branches into the base branch, checked together (the merge-queue worker)",
               "pipeline integrate-batch");
  BatchFlags f;
  app.add_option("task_ids", f.ids, "The tasks, in queue order, whose branches pipeline/<id> to integrate")
      ->required();
  app.add_option("--base", f.base, "Base branch (default: the repository's current branch)");
  app.add_option("--mode", f.mode, "squash or merge; default: integrate.mode, else squash");
  app.add_option("--root", f.root, "Pipeline root directory (default: $PIPELINE_ROOT, else the nearest .pipeline)");
  app.add_option("--parallel", f.parallel, "Check slots while bisecting (default: integrate.parallel)")
      ->check(CLI::Range(1, 16));
  app.add_option("--green-base", f.green_base, "The base commit last seen passing its check");
  app.add_flag("--recheck-base", f.recheck_base, "Check the base alone first (it was seen failing)");
  app.add_flag("--no-check", f.no_check, "Do not run the verify command on the merge results");
  app.add_option("--wait", f.wait_s, "Seconds to wait for another integration into the same base (default 0)")
      ->check(CLI::NonNegativeNumber);
  if (auto rc = ParseArgs(app, args)) {
    if (*rc != 0) PrintJson(nlohmann::json{{"outcome", "error"}, {"message", "usage"}});
    return *rc;
  }
  auto paths = FindRoot(f.root);
  if (!paths.ok()) return BatchError(paths.error());
  Git git(RealProcessRunner(), paths->repo());
  auto req = BatchRequestFrom(f, *paths, git);
  if (!req.ok()) return BatchError(req.error());
  BatchIntegrator integrator(git, RealProcessRunner(), *paths);
  return ReportBatch(integrator.Run(*req, CrashHooksFromEnv()));
}

int IntegrateCommand(const Args& args) {
  CLI::App app("The merge queue", "pipeline integrate");
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  bool recheck = false;
  app.add_flag("--recheck-base", recheck, "Check a base that failed its check again now (the running scheduler does it)");
  if (auto rc = ParseArgs(app, args)) return *rc;
  if (!recheck) return Fail(InvalidArgument("nothing to do: give --recheck-base"));
  auto paths = FindRoot(flags.root);
  if (!paths.ok()) return Fail(paths.error());
  auto db = OpenStore(*paths);
  if (!db.ok()) return Fail(db.error());
  Status s = (*db)->Write([&]() -> Status {
    return AddEvent(**db, SystemClock().Now(), std::nullopt, std::nullopt, "base-recheck", "asked by a person");
  });
  if (!s.ok()) return Fail(s);
  if (flags.json) PrintJson(nlohmann::json{{"recheck_base", true}});
  else printf("the base will be checked again at the scheduler's next step\n");
  return 0;
}

}  // namespace pipeline
