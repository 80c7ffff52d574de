// `pipeline why TASK`: why a task is not running, in one line (the same
// reason `pipeline status` shows; sched/waiting.h computes it). Read-only.
#include <cstdio>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "sandbox/memory_limit.h"
#include "sandbox/settings.h"
#include "sched/scheduler_lock.h"
#include "sched/waiting.h"
#include "store/db.h"
#include "tasks/task_store.h"
#include "util/clock.h"

namespace pipeline {

int WhyCommand(const Args& args) {
  CLI::App app("Why a task is not running: what it waits for (a dependency, its domain, budget, back-off, a person...)",
               "pipeline why");
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  std::string id;
  app.add_option("task", id, "Task id")->required();
  if (auto rc = ParseArgs(app, args)) return *rc;
  auto setup = LoadSchedulerSetup(flags.root);
  if (!setup.ok()) return Fail(setup.error());
  auto default_budget = setup->config.IntOr("fund.default_budget_cents", 0);
  if (!default_budget.ok()) return Fail(default_budget.error());
  auto db = Db::OpenReadOnly(setup->paths.db());
  if (!db.ok()) return Fail(db.error());

  TaskStore store(**db, SystemClock());
  auto task = store.Get(id);
  if (!task.ok()) return Fail(task.error());
  nlohmann::json out;
  if (task->status == TaskStatus::kDone) {
    out = {{"task_id", id}, {"title", task->title}, {"status", "done"}, {"kind", "done"}, {"reason", "done"}};
  } else if (task->type != "work") {
    out = {{"task_id", id}, {"title", task->title}, {"status", TaskStatusName(task->status)}, {"kind", "epic"},
           {"reason", "an epic: it is not scheduled; its work tasks are"}};
  } else {
    WaitingInput in{setup->options, *default_budget};
    auto sandbox = LoadSandboxSettings(setup->config);
    if (!sandbox.ok()) return Fail(sandbox.error());
    if (sandbox->min_free_bytes > 0)
      in.memory_gate = [reserve = sandbox->min_free_bytes]() { return CheckFreeMemory(reserve); };
    auto waiting = ComputeWaiting(**db, in, SystemClock());
    if (!waiting.ok()) return Fail(waiting.error());
    for (const auto& w : *waiting)
      if (w.task_id == id) out = WaitReasonToJson(w);
    if (out.is_null()) return Fail(NotFound("no reason found for task " + id));
  }
  auto holder = SchedulerLockHolder(setup->paths);
  out["scheduler_running"] = holder.has_value();
  if (flags.json) {
    PrintJson(out);
    return 0;
  }
  std::string line = id + ": " + out["reason"].get<std::string>();
  if (!holder && out["kind"] != "done" && out["kind"] != "epic") line += " (no scheduler is running)";
  printf("%s\n", line.c_str());
  return 0;
}

}  // namespace pipeline
