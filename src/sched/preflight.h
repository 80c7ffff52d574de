// Checks before the first run: what would make every task fail, one after
// another with growing back-off, is found once, before anything starts.
// `pipeline run` (also with --dry-run) refuses to start on a problem;
// `pipeline doctor` prints every check. Each check is a function of the
// config, the options, the file system (a program finder), git (through the
// process seam) and the store, so it is tested without a scheduler.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "proc/process.h"
#include "sandbox/protections.h"
#include "sched/scheduler_options.h"
#include "store/db.h"
#include "store/root.h"
#include "util/clock.h"

namespace pipeline {

enum class CheckLevel {
  kOk,
  kNote,     // fine, but worth saying at every start ("verification is off")
  kWarning,  // the rest can run (a domain without budget)
  kProblem,  // nothing may start
};

struct CheckResult {
  std::string check;  // "workspace", "agent", "verify", "budget"
  CheckLevel level = CheckLevel::kOk;
  std::string message;  // what was found, one line; for a problem or warning it ends with the fix
};

// Where a program named in an argv would be found: a name without '/' on
// PATH, a relative path from `dir` (the agent and the check run in the task's
// worktree, a copy of the repository). nullopt: not found or not executable.
using ProgramFinder = std::function<std::optional<std::string>(const std::string& program, const std::string& dir)>;
// The real one: $PATH, then the directory of the running binary (the agent's
// PATH has it too, for pipeline-task and friends).
std::optional<std::string> FindProgram(const std::string& program, const std::string& dir);

// Worktree mode needs a git repository with a commit and the base branch.
CheckResult CheckWorkspace(const SchedulerOptions& o, const RootPaths& paths, ProcessRunner& runner);
// The dev runs' profile exists, has a command, and its program is found.
CheckResult CheckAgent(const Config& config, const SchedulerOptions& o, const RootPaths& paths,
                       const ProgramFinder& find);
// A verify command is configured (or switched off with `command = []`, or
// not needed: after_run = "review") and its program is found; one result per
// command (the default and each domain's).
std::vector<CheckResult> CheckVerify(const SchedulerOptions& o, const RootPaths& paths, const ProgramFinder& find);
// Confinement (docs/security.md): an ok line saying what this kernel gives;
// a problem when a protection the config asks for is missing (install it, or
// name it in sandbox.off); a note naming what the config switched off.
// Network port rules are asked for only when the dev profile names ports.
std::vector<CheckResult> CheckSandbox(const Config& config, const SchedulerOptions& o, const KernelProtections& k);
// A warning for each domain with ready tasks and less budget than one run holds.
std::vector<CheckResult> CheckBudgets(Db& db, const SchedulerOptions& o, int64_t default_budget_cents, Clock& clock);

struct PreflightInput {
  const RootPaths* paths = nullptr;
  const Config* config = nullptr;
  const SchedulerOptions* options = nullptr;
  Db* db = nullptr;  // optional: without it the budget check is left out
  int64_t default_budget_cents = 0;
  ProgramFinder find = FindProgram;
  ProcessRunner* runner = nullptr;  // null: the real one
  const KernelProtections* kernel = nullptr;  // null: this machine's (CachedProtections)
  Clock* clock = nullptr;                     // null: the system clock (the budget check's "now")
};

// Every check, in the order a person fixes them.
std::vector<CheckResult> RunPreflight(const PreflightInput& in);
bool HasProblem(const std::vector<CheckResult>& results);
const char* CheckLevelName(CheckLevel l);  // "ok", "note", "warning", "problem"

}  // namespace pipeline
