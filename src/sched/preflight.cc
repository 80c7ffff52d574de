#include "sched/preflight.h"

#include <unistd.h>

#include <cstdlib>
#include <map>

#include "agent/profile.h"
#include "config/config_schema.h"
#include "git/git.h"
#include "ledger/ledger.h"
#include "sandbox/settings.h"
#include "tasks/task_store.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline {
namespace {

bool Executable(const std::string& path) { return !IsDirectory(path) && access(path.c_str(), X_OK) == 0; }

CheckResult Found(const std::string& check, CheckLevel level, const std::string& message) {
  return CheckResult{check, level, message};
}

// Problems of one argv's program; nullopt when it is found (or cannot be
// judged before the run: a placeholder fills it in).
std::optional<std::string> MissingProgram(const std::vector<std::string>& argv, const std::string& dir,
                                          const ProgramFinder& find) {
  if (argv.empty() || argv[0].find('{') != std::string::npos) return std::nullopt;
  if (find(argv[0], dir)) return std::nullopt;
  return argv[0];
}

}  // namespace

std::optional<std::string> FindProgram(const std::string& program, const std::string& dir) {
  if (program.empty()) return std::nullopt;
  if (program.find('/') != std::string::npos) {
    std::string path = program[0] == '/' ? program : JoinPath(dir, program);
    return Executable(path) ? std::optional<std::string>(path) : std::nullopt;
  }
  std::string search = getenv("PATH") ? getenv("PATH") : "/usr/local/bin:/usr/bin:/bin";
  std::string self = SelfExePath();
  if (auto slash = self.find_last_of('/'); slash != std::string::npos) search += ":" + self.substr(0, slash);
  size_t start = 0;
  while (start <= search.size()) {
    size_t colon = search.find(':', start);
    if (colon == std::string::npos) colon = search.size();
    std::string entry = search.substr(start, colon - start);
    std::string path = JoinPath(entry.empty() ? "." : entry, program);
    if (Executable(path)) return path;
    start = colon + 1;
  }
  return std::nullopt;
}

CheckResult CheckWorkspace(const SchedulerOptions& o, const RootPaths& paths, ProcessRunner& runner) {
  const std::string repo = paths.repo();
  if (o.shared_workspace) return Found("workspace", CheckLevel::kOk, "shared: every run works in " + repo + " itself");
  Git git(runner, repo);
  auto head = git.RevParse("HEAD");
  if (!head.ok() && head.kind() != ErrorKind::kNotFound) {
    return Found("workspace", CheckLevel::kProblem,
                  repo + " is not a git repository (each task works in its own git worktree): run `git init` "
                         "and commit there, or run `pipeline init` inside your repository, or set [scheduler] "
                         "workspace = \"shared\"");
  }
  std::string base = o.base;
  if (base.empty()) {
    auto cur = git.CurrentBranch();
    if (!cur.ok())
      return Found("workspace", CheckLevel::kProblem,
                    "cannot tell the base branch (HEAD is detached in " + repo +
                        "): check out the branch work should be merged into, or set [scheduler] base");
    base = *cur;
  }
  auto tip = git.RevParse("refs/heads/" + base);
  if (!tip.ok()) {
    if (!head.ok())
      return Found("workspace", CheckLevel::kProblem,
                    "the repository " + repo + " has no commit yet: commit something on " + base +
                        " first (task worktrees start from it)");
    return Found("workspace", CheckLevel::kProblem,
                  "the base branch " + base + " does not exist in " + repo +
                      ": create it, or set [scheduler] base (or --base) to an existing branch");
  }
  return Found("workspace", CheckLevel::kOk, "git worktrees of " + repo + ", merged into " + base);
}

CheckResult CheckAgent(const Config& config, const SchedulerOptions& o, const RootPaths& paths,
                       const ProgramFinder& find) {
  std::string name = o.profile;
  if (name.empty()) {
    if (!config.Has("agent.profile"))
      return Found("agent", CheckLevel::kProblem,
                    "no agent chosen: set [agent] profile = \"claude-code\" (or \"codex\", or a [profiles.NAME] "
                    "of your own) in " + config.origin());
    auto def = DefaultProfileName(config);
    if (!def.ok()) return Found("agent", CheckLevel::kProblem, def.message());
    name = *def;
  }
  auto profile = LoadProfile(config, name);
  if (!profile.ok()) {
    std::string msg = profile.message();
    std::vector<std::string> known = {"claude-code", "codex"};
    for (const auto& k : config.Keys("profiles")) known.push_back(k);
    if (std::string near = NearestName(name, known); !near.empty() && near != name)
      msg += "; did you mean " + near + "?";
    return Found("agent", CheckLevel::kProblem, msg);
  }
  if (auto missing = MissingProgram(profile->command, paths.repo(), find))
    return Found("agent", CheckLevel::kProblem,
                  "the agent program " + *missing + " (profile " + name +
                      ") is not found on PATH: install it, or fix [profiles." + name + "] command");
  return Found("agent", CheckLevel::kOk, "profile " + name + ": " + profile->command[0]);
}

std::vector<CheckResult> CheckVerify(const SchedulerOptions& o, const RootPaths& paths, const ProgramFinder& find) {
  std::vector<CheckResult> out;
  if (o.after_run == AfterRun::kReview) {
    out.push_back(Found("verify", CheckLevel::kOk, "after_run = review: every finished run waits for a person"));
    return out;
  }
  const std::string repo = paths.repo();
  auto check = [&](const std::vector<std::string>& argv, const std::string& where, const std::string& key) {
    if (argv.empty()) {
      out.push_back(Found("verify", CheckLevel::kNote,
                           "verification is off" + where + " (" + key + " = []): work is merged unchecked"));
    } else if (auto missing = MissingProgram(argv, repo, find)) {
      out.push_back(Found("verify", CheckLevel::kProblem,
                           "the verify program " + *missing + where + " is not found: install it, or fix " + key));
    } else {
      out.push_back(Found("verify", CheckLevel::kOk, Join(argv, " ") + where));
    }
  };
  if (!o.verify.fallback.command) {
    out.push_back(Found("verify", CheckLevel::kProblem,
                         "no verify command: set [verify] command = [\"make\", \"test\"] (the check each patchset "
                         "must pass before it is merged), or command = [] to merge unchecked"));
  } else {
    check(*o.verify.fallback.command, "", "[verify] command");
  }
  for (const auto& [domain, table] : o.verify.domains)
    if (table.command) check(*table.command, " in domain " + domain, "[verify.domains.\"" + domain + "\"] command");
  return out;
}

std::vector<CheckResult> CheckSandbox(const Config& config, const SchedulerOptions& o, const KernelProtections& k) {
  std::vector<CheckResult> out;
  auto settings = LoadSandboxSettings(config);
  if (!settings.ok()) {
    out.push_back(Found("sandbox", CheckLevel::kProblem, settings.message()));
    return out;
  }
  if (!settings->enabled) {
    out.push_back(Found("sandbox", CheckLevel::kNote, OffLine(*settings)));
    return out;
  }
  SandboxSettings asked = *settings;
  // As the monitor does: port rules only for a profile that names ports.
  std::string name = o.profile;
  if (name.empty()) {
    auto def = DefaultProfileName(config);
    if (def.ok()) name = *def;
  }
  auto profile = LoadProfile(config, name);
  if (profile.ok() && !profile->net_ports) asked.off.insert(kProtectionNetwork);
  if (Status st = RequireProtections(asked, k); !st.ok()) {
    out.push_back(Found("sandbox", CheckLevel::kProblem, st.message()));
    return out;
  }
  out.push_back(Found("sandbox", CheckLevel::kOk, "confined runs: " + DescribeProtections(k)));
  if (std::string off = OffLine(*settings); !off.empty()) out.push_back(Found("sandbox", CheckLevel::kNote, off));
  return out;
}

std::vector<CheckResult> CheckBudgets(Db& db, const SchedulerOptions& o, int64_t default_budget_cents, Clock& clock) {
  std::vector<CheckResult> out;
  TaskStore tasks(db, clock);
  auto ready = tasks.Ready();
  if (!ready.ok()) {
    out.push_back(Found("budget", CheckLevel::kWarning, "cannot list ready tasks: " + ready.message()));
    return out;
  }
  std::map<std::string, int> by_domain;
  for (const auto& t : *ready)
    if (t.ns && !t.ns->empty()) ++by_domain[DomainFor(o, *t.ns)];
  Ledger ledger(db, clock, default_budget_cents);
  for (const auto& [domain, n] : by_domain) {
    auto rep = ledger.Check(domain);
    if (!rep.ok()) {
      out.push_back(Found("budget", CheckLevel::kWarning, "domain " + domain + ": " + rep.message()));
      continue;
    }
    std::string tasks_text = std::to_string(n) + " ready task" + (n == 1 ? "" : "s");
    if (rep->overrun_blocked || rep->remaining_cents < o.reserve_cents) {
      out.push_back(Found("budget", CheckLevel::kWarning,
                           "domain " + domain + " has " + tasks_text + " and no budget (remaining " +
                               std::to_string(rep->remaining_cents) + "c, a run holds " +
                               std::to_string(o.reserve_cents) + "c): `pipeline fund grant --domain " + domain +
                               " --cents N`"));
    } else {
      out.push_back(Found("budget", CheckLevel::kOk,
                           "domain " + domain + ": " + tasks_text + ", " + std::to_string(rep->remaining_cents) +
                               "c remaining"));
    }
  }
  return out;
}

std::vector<CheckResult> RunPreflight(const PreflightInput& in) {
  std::vector<CheckResult> out;
  ProcessRunner& runner = in.runner ? *in.runner : RealProcessRunner();
  out.push_back(CheckWorkspace(*in.options, *in.paths, runner));
  out.push_back(CheckAgent(*in.config, *in.options, *in.paths, in.find));
  for (auto& r : CheckSandbox(*in.config, *in.options, in.kernel ? *in.kernel : CachedProtections()))
    out.push_back(std::move(r));
  for (auto& r : CheckVerify(*in.options, *in.paths, in.find)) out.push_back(std::move(r));
  if (in.db)
    for (auto& r : CheckBudgets(*in.db, *in.options, in.default_budget_cents, in.clock ? *in.clock : SystemClock())) out.push_back(std::move(r));
  return out;
}

bool HasProblem(const std::vector<CheckResult>& results) {
  for (const auto& r : results)
    if (r.level == CheckLevel::kProblem) return true;
  return false;
}

const char* CheckLevelName(CheckLevel l) {
  switch (l) {
    case CheckLevel::kOk: return "ok";
    case CheckLevel::kNote: return "note";
    case CheckLevel::kWarning: return "warning";
    case CheckLevel::kProblem: return "problem";
  }
  return "?";
}

}  // namespace pipeline
