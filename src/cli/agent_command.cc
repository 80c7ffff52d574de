// `pipeline agent` (also invoked as `agentd` / `pipeline-agentd`): start
// coding agents that run detached under a monitor, and ask how they went
// (the `agentd` protocol, docs/protocol.md). One handler per subcommand,
// found through the table at the end (cli/dispatch.h).
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "agent/frontmatter.h"
#include "agent/launcher.h"
#include "agent/monitor.h"
#include "agent/profile.h"
#include "agent/run_store.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/dispatch.h"
#include "sandbox/sandbox_exec.h"
#include "config/config.h"
#include "util/files.h"
#include "util/log.h"
#include "util/text.h"
#include "slurm/node_job.h"

namespace pipeline {
namespace {

struct Store {
  RootPaths paths;
  std::unique_ptr<Db> db;
};

Result<Store> OpenFromFlags(const StoreFlags& flags) {
  PL_ASSIGN_OR_RETURN(RootPaths paths, FindRoot(flags.root));
  PL_ASSIGN_OR_RETURN(auto db, OpenStore(paths));
  return Store{paths, std::move(db)};
}

struct RunFlags {
  StoreFlags store;
  std::string prompt;
  std::optional<std::string> run_id, profile, workspace, task_id, model;
  std::optional<int64_t> timeout_s, max_iter, max_cost;
};

// The run as asked: flags first, then the prompt's frontmatter. A usage
// mistake is kInvalidArgument.
Result<RunSpec> SpecFrom(const RunFlags& f, const PromptFile& prompt) {
  RunSpec spec;
  spec.prompt_path = AbsolutePath(f.prompt);
  spec.run_id = f.run_id ? *f.run_id : prompt.run_id.value_or("");
  if (spec.run_id.empty()) return InvalidArgument("a run id is required: -n RUN_ID");
  PL_RETURN_IF_ERROR(ValidateRunId(spec.run_id));
  std::string ws = f.workspace ? *f.workspace : prompt.workspace.value_or(".");
  spec.workspace = AbsolutePath(ws);
  while (spec.workspace.size() > 1 && spec.workspace.back() == '/') spec.workspace.pop_back();
  if (StartsWith(spec.workspace, "/") && spec.workspace.size() > 2 &&
      spec.workspace.compare(spec.workspace.size() - 2, 2, "/.") == 0)
    spec.workspace.resize(spec.workspace.size() - 2);
  if (!IsDirectory(spec.workspace)) return InvalidArgument("workspace is not a directory: " + ws);
  spec.task_id = f.task_id ? f.task_id : prompt.task_id;
  spec.model = f.model ? f.model : prompt.model;
  spec.timeout_s = f.timeout_s ? f.timeout_s : prompt.timeout_s;
  spec.max_iter = f.max_iter ? f.max_iter : prompt.max_iterations;
  spec.max_cost_cents = f.max_cost ? f.max_cost : prompt.max_cost_cents;
  return spec;
}

// The profile: --profile, else the prompt's, else the configured default;
// checked to exist before anything is recorded.
Result<std::string> ProfileFor(const RunFlags& f, const PromptFile& prompt, const RootPaths& paths) {
  PL_ASSIGN_OR_RETURN(Config config, Config::Load(paths.config()));
  std::string name;
  if (f.profile) name = *f.profile;
  else if (prompt.profile) name = *prompt.profile;
  else {
    PL_ASSIGN_OR_RETURN(name, DefaultProfileName(config));
  }
  PL_RETURN_IF_ERROR(LoadProfile(config, name).status());
  return name;
}

int RunRun(const Args& args) {
  CLI::App app{"Start a coding agent on a prompt file; returns once it runs", "pipeline agent run"};
  RunFlags f;
  AddStoreFlags(app, &f.store);
  app.add_option("prompt", f.prompt, "Prompt file (Markdown with frontmatter)")->required();
  app.add_option("-n,--name", f.run_id, "Run id (the id `status` takes)");
  app.add_option("--timeout", f.timeout_s, "Seconds before the agent is stopped (0: none)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-iter", f.max_iter, "Turns before the agent is stopped")->check(CLI::NonNegativeNumber);
  app.add_option("--max-cost", f.max_cost, "Cents of spend before the agent is stopped")->check(CLI::NonNegativeNumber);
  app.add_option("--profile", f.profile, "Agent profile (claude-code, codex, command, or [profiles.NAME])");
  app.add_option("--workspace", f.workspace, "Directory the agent works in (default: the prompt's, else .)");
  app.add_option("--task-id", f.task_id, "Task the run works on (PIPELINE_TASK_ID)");
  app.add_option("--model", f.model, "Model name passed to the agent");
  if (auto rc = ParseArgs(app, args)) return *rc;

  auto prompt = ReadPromptFile(AbsolutePath(f.prompt));
  if (!prompt.ok()) return Fail(prompt.error());
  for (const auto& [key, value] : prompt->unknown)
    LogWarning("prompt frontmatter key {} is not known; ignored", key);
  auto spec = SpecFrom(f, *prompt);
  if (!spec.ok()) return Fail(spec.error());
  auto store = OpenFromFlags(f.store);
  if (!store.ok()) return Fail(store.error());
  auto profile = ProfileFor(f, *prompt, store->paths);
  if (!profile.ok()) return Fail(profile.error());
  spec->profile = *profile;

  if (Status s = InsertRun(*store->db, *spec, SystemClock()); !s.ok()) return Fail(s);
  auto pid = StartMonitor(store->paths, spec->run_id);
  if (!pid.ok()) return Fail(Error{pid.kind(), "run " + spec->run_id + " did not start: " + pid.message()});
  if (f.store.json) {
    auto rec = GetRun(*store->db, spec->run_id);
    if (rec.ok()) PrintJson(RunToStatusJson(*rec));
    else PrintJson({{"run_id", spec->run_id}, {"status", "running"}});
  } else {
    printf("%s\n", spec->run_id.c_str());
  }
  return 0;
}

int RunStatus_(const Args& args) {
  CLI::App app{"How a run is going", "pipeline agent status"};
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  std::string run_id;
  app.add_option("run_id", run_id, "Run id")->required();
  if (auto rc = ParseArgs(app, args)) return *rc;
  auto fail = [&](const Error& e) {
    // One JSON object even for an unknown run, and never one that says "running".
    if (flags.json) PrintJson({{"run_id", run_id}, {"status", "unknown"}, {"cost_cents", 0}, {"error", e.message}});
    return Fail(e);
  };
  auto store = OpenFromFlags(flags);
  if (!store.ok()) return fail(store.error());
  (void)ReapDeadMonitors(*store->db, SystemClock());
  auto rec = GetRun(*store->db, run_id);
  if (!rec.ok()) return fail(rec.error());
  if (flags.json) {
    PrintJson(RunToStatusJson(*rec));
    return 0;
  }
  printf("%s: %s (cost %.2f cents, %lld turns)\n", rec->run_id.c_str(), RunStatusName(rec->status),
         rec->cost_cents, static_cast<long long>(rec->turns));
  if (rec->error) printf("error: %s\n", rec->error->c_str());
  return 0;
}

// Copies path from *offset to stdout; returns false when the file cannot be read.
bool CopyFrom(const std::string& path, off_t* offset) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  off_t size = lseek(fd, 0, SEEK_END);
  if (size < *offset) *offset = 0;  // the capped log rewrote its tail: start over
  lseek(fd, *offset, SEEK_SET);
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    fwrite(buf, 1, static_cast<size_t>(n), stdout);
    *offset += n;
  }
  fflush(stdout);
  close(fd);
  return true;
}

int RunLogs(const Args& args) {
  CLI::App app{"A run's captured output", "pipeline agent logs"};
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  std::string run_id;
  bool follow = false, err = false;
  app.add_option("run_id", run_id, "Run id")->required();
  app.add_flag("-f,--follow", follow, "Keep printing until the run ends");
  app.add_flag("--stderr", err, "The agent's stderr instead of its stdout");
  if (auto rc = ParseArgs(app, args)) return *rc;
  auto store = OpenFromFlags(flags);
  if (!store.ok()) return Fail(store.error());
  auto rec = GetRun(*store->db, run_id);
  if (!rec.ok()) return Fail(rec.error());
  std::string path = err ? rec->stderr_path : rec->stdout_path;
  off_t offset = 0;
  bool any = CopyFrom(path, &offset);
  while (follow) {
    (void)ReapDeadMonitors(*store->db, SystemClock());
    auto now = GetRun(*store->db, run_id);
    bool ended = !now.ok() || IsTerminal(now->status);
    any = CopyFrom(path, &offset) || any;
    if (ended) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (!any && IsTerminal(rec->status) && !follow)
    return Fail(NotFound("run " + run_id + " has no " + (err ? "stderr" : "stdout") + " log"));
  return 0;
}

int RunKill(const Args& args) {
  CLI::App app{"Stop a run and its whole process group", "pipeline agent kill"};
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  std::string run_id;
  app.add_option("run_id", run_id, "Run id")->required();
  if (auto rc = ParseArgs(app, args)) return *rc;
  auto store = OpenFromFlags(flags);
  if (!store.ok()) return Fail(store.error());
  if (Status s = RequestKill(*store->db, store->paths, run_id); !s.ok()) return Fail(s);
  // A cluster run ends when a scheduler acts on the request (scancel, or a
  // local scheduler giving it up): nothing here to wait for.
  if (auto on_cluster = RunIsOnCluster(*store->db, run_id); on_cluster.ok() && *on_cluster) {
    auto rec = GetRun(*store->db, run_id);
    if (!rec.ok()) return Fail(rec.error());
    if (flags.json) PrintJson(RunToStatusJson(*rec));
    else printf("%s: kill requested (out on a cluster: the scheduler cancels its job)\n", run_id.c_str());
    return 0;
  }
  auto config = Config::Load(store->paths.config());
  int64_t grace = config.ok() ? config->IntOr("agent.kill_grace_ms", 3000).value() : 3000;
  // Wait for the monitor to record the end, a little past its kill grace.
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace + 5000);
  Result<RunRecord> rec = GetRun(*store->db, run_id);
  while (rec.ok() && !IsTerminal(rec->status) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    (void)ReapDeadMonitors(*store->db, SystemClock());
    rec = GetRun(*store->db, run_id);
  }
  if (!rec.ok()) return Fail(rec.error());
  if (flags.json) PrintJson(RunToStatusJson(*rec));
  else printf("%s: %s\n", run_id.c_str(), RunStatusName(rec->status));
  return IsTerminal(rec->status) ? 0 : Fail(TimedOut("run " + run_id + " has not ended yet"));
}

// "45s", "3m07s", "2h05m": how long a run has taken (or takes, while it runs).
std::string FormatDuration(Micros d) {
  int64_t s = d / 1'000'000;
  char buf[32];
  if (s < 60) snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  else if (s < 3600) snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  else snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s / 60 % 60));
  return buf;
}

int RunList(const Args& args) {
  CLI::App app{"Runs, newest first", "pipeline agent list"};
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  bool active = false;
  std::optional<std::string> task;
  app.add_flag("--active", active, "Only runs that have not ended");
  app.add_option("--task", task, "Only the runs of this task");
  if (auto rc = ParseArgs(app, args)) return *rc;
  auto store = OpenFromFlags(flags);
  if (!store.ok()) return Fail(store.error());
  (void)ReapDeadMonitors(*store->db, SystemClock());
  auto runs = ListRuns(*store->db, active);
  if (!runs.ok()) return Fail(runs.error());
  std::vector<RunRecord> shown;
  for (auto& r : *runs)
    if (!task || r.task_id == *task) shown.push_back(std::move(r));
  if (flags.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : shown) arr.push_back(RunToStatusJson(r));
    PrintJson(arr);
    return 0;
  }
  if (shown.empty()) {
    printf(task ? "no runs of task %s\n" : "no runs%s\n", task ? task->c_str() : "");
    return 0;
  }
  Micros now = SystemClock().Now();
  printf("%-40s %-10s %-8s %-10s %-20s %8s %9s\n", "RUN", "STATUS", "PHASE", "TASK", "STARTED (UTC)", "DURATION",
         "COST");
  for (const auto& r : shown) {
    std::string started = "-";
    if (r.started_at) {
      std::string iso = FormatIso8601(*r.started_at);  // 2026-12-01T16:44:39.123456Z
      started = iso.substr(0, 10) + " " + iso.substr(11, 8);
    }
    std::string took = r.started_at ? FormatDuration(r.ended_at.value_or(now) - *r.started_at) : "-";
    printf("%-40s %-10s %-8s %-10s %-20s %8s %8.2fc\n", r.run_id.c_str(), RunStatusName(r.status),
           r.phase.empty() ? "-" : r.phase.c_str(), r.task_id.value_or("-").c_str(), started.c_str(), took.c_str(),
           r.cost_cents);
  }
  return 0;
}

int RunMonitorCommand(const Args& args) {
  CLI::App app{"(internal) supervise one run", "pipeline agent __monitor"};
  std::string run_id, root;
  app.add_option("run_id", run_id)->required();
  app.add_option("--root", root)->required();
  if (auto rc = ParseArgs(app, args)) return *rc;
  int hs = fcntl(3, F_GETFD) != -1 ? 3 : -1;
  if (hs >= 0) fcntl(hs, F_SETFD, FD_CLOEXEC);  // the agent must not hold the caller's pipe
  return RunMonitor(RootPaths{root}, run_id, hs);
}

}  // namespace

// A run carried out as a cluster job (src/slurm/node_job.h): RUN_DIR.
int RunNodeJobCommand(const Args& args) {
  if (args.size() != 1) return UsageError("usage: pipeline agent __job RUN_DIR");
  return slurm::RunNodeJob(args[0]);
}

int AgentCommand(const Args& args) {
  static const CommandGroup kAgent = {
      "pipeline agent",
      "Start coding agents that run detached under a monitor, and ask how they went (the `agentd` protocol, "
      "docs/protocol.md)",
      {
          {"run", "PROMPT -n RUN_ID [--timeout S] [--max-iter N] [--max-cost CENTS] [--profile P] [--workspace DIR] "
                  "[--task-id T] [--model M] [--json]: start an agent; returns at once",
           RunRun},
          {"status", "RUN_ID [--json]: how a run is going (\"running\" until it ends)", RunStatus_},
          {"logs", "RUN_ID [-f] [--stderr]: the run's captured output", RunLogs},
          {"kill", "RUN_ID [--json]: stop a run (its whole process group)", RunKill},
          {"list", "[--active] [--task ID] [--json]: runs, newest first", RunList},
          {"__monitor", "(internal) supervise one run", RunMonitorCommand, /*listed=*/false},
          {"__job", "(internal) carry out a run as a cluster job", RunNodeJobCommand, /*listed=*/false},
          // Inside a confined run: applies Landlock, then execs the agent (sandbox/sandbox_exec.h).
          {"__sandbox-exec", "(internal) the inner step of a confined run", SandboxExecMain, /*listed=*/false},
      },
  };
  return Dispatch(kAgent, args);
}

}  // namespace pipeline
