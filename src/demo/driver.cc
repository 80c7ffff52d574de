#include "demo/driver.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <cstdio>
#include <map>
#include <set>

#include "config/config.h"
#include "ledger/ledger.h"
#include "demo/backlog.h"
#include "demo/claude.h"
#include "demo/dashboard.h"
#include "demo/project.h"
#include "demo/scenario.h"
#include "demo/summary.h"
#include "tasks/task_transitions.h"
#include "demo/view.h"
#include "sandbox/protections.h"
#include "sched/scheduler.h"
#include "sched/wait_loop.h"
#include "store/root.h"
#include "tasks/task_store.h"
#include "util/files.h"
#include "util/log.h"
#include "util/text.h"

namespace pipeline::demo {
namespace {

constexpr int kMaxWaitMs = 100;     // the view is redrawn at least this often
constexpr int kIdleRoundsToStop = 3;  // Steps with nothing running or startable before giving up

// Ctrl-C stops the demo between Steps, so it can stop its runs and still
// print where things stood (rather than leaving agents running unseen).
volatile sig_atomic_t g_interrupted = 0;
void OnInterrupt(int) { g_interrupted = 1; }

std::string TomlString(const std::string& s) { return nlohmann::json(s).dump(); }

// A directory for the project: the one given (new or empty), else a fresh
// one under $TMPDIR.
Result<std::string> PrepareDir(const std::string& requested, bool* temporary) {
  *temporary = requested.empty();
  if (requested.empty()) {
    const char* tmp = getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/pipeline-demo-XXXXXX";
    if (!mkdtemp(tmpl.data())) return IOError("cannot create a temporary directory under " + tmpl);
    return tmpl;
  }
  std::string dir = AbsolutePath(requested);
  if (PathExists(dir)) {
    if (!IsDirectory(dir)) return Refused(dir + " exists and is not a directory");
    std::error_code ec;
    bool empty = std::filesystem::is_empty(dir, ec);
    if (ec || !empty) return Refused(dir + " is not empty; give a new or empty directory");
  } else {
    PL_RETURN_IF_ERROR(MakeDirs(dir));
  }
  return dir;
}

// Runs this binary with args; a failure is an error quoting its stderr.
Status RunSelf(const std::string& self, const std::vector<std::string>& args, const std::string& cwd) {
  Command cmd;
  cmd.argv = {self};
  cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
  cmd.cwd = cwd;
  cmd.timeout_ms = 60000;
  PL_ASSIGN_OR_RETURN(CommandResult r, RealProcessRunner().Run(cmd));
  if (!r.ok()) return IOError("pipeline " + args.front() + " failed: " + SingleLine(Trim(r.err)));
  return Status::Ok();
}

// The backlog in the tracker, in order (dependencies come first); returns id -> key.
Result<std::map<std::string, std::string>> CreateBacklog(Db& db) {
  TaskStore store(db, SystemClock());
  std::map<std::string, std::string> key_of, id_of;
  PL_RETURN_IF_ERROR(db.Write([&]() -> Status {
    for (const DemoTaskSpec& spec : DemoBacklog()) {
      NewTask t;
      t.title = spec.title;
      t.ns = spec.ns;
      t.priority = spec.priority;
      t.description = DemoDescription(spec);
      t.tags = {"demo"};
      for (const auto& dep : spec.deps) t.deps.push_back(id_of.at(dep));
      PL_ASSIGN_OR_RETURN(Task created, store.Create(t));
      id_of[spec.key] = created.id;
      key_of[created.id] = spec.key;
    }
    return Status::Ok();
  }));
  return key_of;
}

// The person's part of the scenario, checked after every Step.
class Person {
 public:
  Person(Db& db, const RootPaths& paths, std::string self, std::string dir, const std::map<std::string, std::string>& key_of,
         ProgressView& view)
      : db_(db), paths_(paths), self_(std::move(self)), dir_(std::move(dir)), key_of_(key_of), view_(view) {}

  // True when it did something the scheduler should react to.
  Result<bool> Act(double elapsed) {
    bool acted = false;
    PL_ASSIGN_OR_RETURN(bool a, AnswerQuestions(elapsed));
    PL_ASSIGN_OR_RETURN(bool g, TopUpBudgets(elapsed));
    acted = a || g;
    return acted;
  }
  const std::vector<std::string>& done() const { return done_; }

 private:
  // The question task waits in needs-help: answer it as a person would.
  Result<bool> AnswerQuestions(double elapsed) {
    bool acted = false;
    for (const auto& [id, key] : key_of_) {
      const DemoTaskSpec* spec = FindDemoTask(key);
      if (!spec || spec->role != DemoRole::kAsksQuestion || answered_.count(id)) continue;
      PL_ASSIGN_OR_RETURN(auto status, TaskStatusOf(db_, id));
      if (status != TaskStatus::kNeedsHelp) continue;
      std::string shown = fmt::format("pipeline task comment {} {} --author human", id, Quoted(kDemoAnswer));
      view_.Event(elapsed, id + " needs help; answering as a person: " + shown);
      PL_RETURN_IF_ERROR(RunSelf(self_, {"task", "comment", id, kDemoAnswer, "--author", "human", "--root", paths_.root}, dir_));
      answered_.insert(id);
      done_.push_back(fmt::format("answered {}'s question: {}", id, shown));
      acted = true;
    }
    return acted;
  }

  // A domain with ready work, nothing running and not enough left for one
  // run's hold: the scheduler holds that work back; the person grants more.
  Result<bool> TopUpBudgets(double elapsed) {
    ReadyFilter with_ns;
    with_ns.with_namespace = true;
    PL_ASSIGN_OR_RETURN(std::vector<Task> ready, ReadyTasks(db_, with_ns));
    std::vector<std::string> domains;
    std::set<std::string> seen;
    for (const Task& t : ready) {
      if (!seen.insert(*t.ns).second) continue;
      Stmt& busy = db_.Cached(
          "SELECT 1 FROM runs WHERE domain = ? AND phase = 'dev' "
          "AND (status IN ('starting', 'running') OR harvested_at IS NULL) LIMIT 1");
      busy.BindAll(*t.ns);
      PL_ASSIGN_OR_RETURN(bool running, busy.Step());
      busy.Reset();
      if (!running) domains.push_back(*t.ns);
    }
    bool acted = false;
    Ledger ledger(db_, SystemClock(), 0);
    for (const auto& d : domains) {
      if (grants_[d] >= 2) continue;  // a demo, not a money pump
      PL_ASSIGN_OR_RETURN(DomainReport rep, ledger.Check(d));
      if (rep.remaining_cents >= kDemoReserveCents && !rep.overrun_blocked) continue;
      std::string shown = fmt::format("pipeline fund grant --domain {} --cents {}", d, kDemoTopUpCents);
      view_.Event(elapsed, fmt::format("{} has {}c left, less than one run's {}c hold; the next {} task waits. "
                                       "Granting as the budget owner: {}",
                                       d, rep.remaining_cents, kDemoReserveCents, d, shown));
      PL_RETURN_IF_ERROR(RunSelf(self_, {"fund", "grant", "--domain", d, "--cents", std::to_string(kDemoTopUpCents),
                                         "--root", paths_.root},
                                 dir_));
      ++grants_[d];
      done_.push_back(fmt::format("{} had {}c left, less than a run's {}c hold: {}", d, rep.remaining_cents,
                                  kDemoReserveCents, shown));
      acted = true;
    }
    return acted;
  }

  Db& db_;
  const RootPaths& paths_;
  std::string self_, dir_;
  const std::map<std::string, std::string>& key_of_;
  ProgressView& view_;
  std::set<std::string> answered_;
  std::map<std::string, int> grants_;
  std::vector<std::string> done_;
};

// Waits until a watched run ends, a timer is due, or kMaxWaitMs passed.
void Wait(Waiter& waiter, Scheduler& sched, const std::optional<Micros>& next_wake) {
  Micros timeout = kMaxWaitMs * 1000;
  if (next_wake) timeout = std::clamp<Micros>(*next_wake - sched.clock().Now(), 0, timeout);
  (void)waiter.Wait(&sched.launcher(), timeout);  // a failed poll: step anyway
}

std::string EventLine(const SchedEvent& e) {
  std::string line = fmt::format("{:<12}", e.kind);
  if (e.task_id) line += " " + *e.task_id;
  if (!e.detail.empty()) line += "  " + SingleLine(TruncateUtf8(e.detail, 160));
  if (e.run_id && e.kind == "start") line += "  (" + *e.run_id + ")";
  return line;
}

}  // namespace

std::string ScriptedAgentSection(const std::string& self_exe, const std::string& base) {
  return fmt::format(R"toml([agent]
profile = "demo"

# The scripted agent that ships with pipeline: it edits, commits and reports
# its cost in Claude Code's stream-json format, offline.
[profiles.demo]
command = [{self}, "demo", "agent", "--base", {base}, "{{prompt_file}}"]
reader = "claude-code"
)toml",
                     fmt::arg("self", TomlString(self_exe)), fmt::arg("base", TomlString(base)));
}

std::string DemoConfigText(const std::string& base, const std::string& agent_section) {
  return fmt::format(R"toml(# Settings of the textkit demo, written by `pipeline demo`.

[fund]
default_budget_cents = 0

[scheduler]
max_active = 3
reserve_cents = {reserve}   # each run holds this much of its domain's budget
max_retries = 2
backoff_base_s = 0          # retry at once: this is a demo
integrate_retry_s = 1
timeout_s = 120
base = {base}
model = {model}

{agent}
[verify]
command = ["sh", "tests/run.sh"]
timeout_s = 60

[review]
required = false
)toml",
                     fmt::arg("reserve", kDemoReserveCents), fmt::arg("base", TomlString(base)),
                     fmt::arg("model", TomlString(kDemoClaudeModel)), fmt::arg("agent", agent_section));
}

namespace {

struct AgentSetup {
  std::string config_section;  // [agent] and the profile, for config.toml
  std::string description;     // for the header line
};

// Sets up the chosen agent: for Claude Code, the model stub (kept in *stub)
// and its private home.
Result<AgentSetup> SetUpAgent(const DemoOptions& opts, const std::string& self, const ClaudeCli& claude,
                              const RootPaths& paths, DemoModelStub* stub) {
  if (opts.agent == "command")
    return AgentSetup{ScriptedAgentSection(self, kDemoBaseBranch), "the scripted agent (stream-json)"};
  std::string state = paths.root + "/demo";
  std::string home = state + "/home";
  PL_RETURN_IF_ERROR(MakeDirs(home + "/.claude", 0700));
  PL_RETURN_IF_ERROR(stub->Start(self.substr(0, self.rfind('/') + 1) + "pipeline-model-stub", state));
  // The built-in profile runs `claude` from PATH; the monitors inherit ours.
  const char* path = getenv("PATH");
  std::string dir = claude.path.substr(0, claude.path.rfind('/'));
  setenv("PATH", (dir + ":" + (path && *path ? path : "/usr/local/bin:/usr/bin:/bin")).c_str(), 1);
  std::string section = "[agent]\nprofile = \"claude-code\"\n\n" + ClaudeProfileConfig(stub->url(), home);
  return AgentSetup{section, fmt::format("claude {} at {}; its model is played by the local stub at {}",
                                         claude.version, claude.path, stub->url())};
}

}  // namespace

int RunDemo(const DemoOptions& opts) {
  FILE* out = stdout;
  auto fail = [](const std::string& m, int code = 1) {
    Log("demo: {}", m);
    return code;
  };
  std::string self = opts.self_exe.empty() ? SelfExePath() : opts.self_exe;
  Micros t0 = SystemClock().MonotonicNow();
  auto elapsed = [&] { return static_cast<double>(SystemClock().MonotonicNow() - t0) / 1e6; };

  // Claude Code is looked for before anything is created.
  ClaudeCli claude;
  if (opts.agent == "claude-code") {
    auto found = FindClaudeCli(opts.claude_bin, self);
    if (!found.ok()) return fail(found.message(), ExitCodeFor(found.kind()));
    claude = *found;
  } else if (opts.agent != "command") {
    return fail("unknown agent " + opts.agent + " (claude-code or command)", 2);
  }

  bool temporary = false;
  auto dir = PrepareDir(opts.dir, &temporary);
  if (!dir.ok()) return fail(dir.message(), ExitCodeFor(dir.kind()));
  fmt::print(out, "pipeline demo: sample project \"textkit\" in {}\n", *dir);

  Status s = CreateDemoProject(RealProcessRunner(), *dir);
  if (!s.ok()) return fail(s.message());
  RootPaths paths{*dir + "/.pipeline"};
  s = RunSelf(self, {"init", "--root", paths.root}, *dir);
  if (!s.ok()) return fail(s.message());
  DemoModelStub stub;  // outlives the scheduler below: the agents talk to it
  auto agent = SetUpAgent(opts, self, claude, paths, &stub);
  if (!agent.ok()) return fail(agent.message());
  s = WriteFileAtomic(paths.config(), DemoConfigText(kDemoBaseBranch, agent->config_section));
  if (!s.ok()) return fail(s.message());
  auto db = OpenStore(paths);
  if (!db.ok()) return fail(db.message());
  auto key_of = CreateBacklog(**db);
  if (!key_of.ok()) return fail(key_of.message());
  {
    Ledger ledger(**db, SystemClock(), 0);
    for (const auto& b : DemoBudgets()) {
      Status st = ledger.SetBudget(b.domain, b.cents);
      if (!st.ok()) return fail(st.message());
    }
  }
  fmt::print(out, "{} tasks in 3 domains (strings, numbers, docs); budgets", key_of->size());
  for (const auto& b : DemoBudgets()) fmt::print(out, " {} {}c", b.domain, b.cents);
  fmt::print(out, "\nagent: {}\nverify: sh tests/run.sh\n", agent->description);
  // Dev and verify runs are confined, as any pipeline's are by default (docs/security.md).
  fmt::print(out, "confined runs: {}\n\n", DescribeProtections(CachedProtections()));
  fflush(out);

  auto config = Config::Load(paths.config());
  if (!config.ok()) return fail(config.message());
  auto options = OptionsFromConfig(*config);
  if (!options.ok()) return fail(options.message());
  options->until_idle = true;

  DashboardChild dashboard;
  if (opts.serve) {
    auto started = StartDashboard(self, paths);
    if (!started.ok()) return fail(started.message());
    dashboard = *started;
    fmt::print(out, "dashboard: {}\n\n", dashboard.url);
  }
  bool live = opts.watch && isatty(fileno(out));
  ProgressView view(out, live);
  SchedulerEnv env;
  env.self_exe = self;
  env.on_event = [&](const SchedEvent& e) { view.Event(elapsed(), EventLine(e)); };
  Scheduler sched(*options, **db, paths, SystemClock(), env);
  s = sched.Recover();
  if (!s.ok()) return fail("scheduler: " + s.message());

  Person person(**db, paths, self, *dir, *key_of, view);
  DemoFacts facts;
  facts.dir = *dir;
  facts.base = kDemoBaseBranch;
  facts.agent = opts.agent;
  facts.key_of_task = *key_of;
  std::string error;
  int idle_rounds = 0;
  Waiter waiter;
  struct sigaction sa{}, old_int{}, old_term{};
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  while (true) {
    if (g_interrupted) {
      error = "interrupted";
      break;
    }
    auto step = sched.Step();
    if (!step.ok()) {
      error = "scheduler: " + step.message();
      break;
    }
    auto acted = person.Act(elapsed());
    if (!acted.ok()) {
      error = acted.message();
      break;
    }
    auto state = ReadViewState(**db);
    if (!state.ok()) {
      error = state.message();
      break;
    }
    view.Draw(elapsed(), *state);
    if (state->by_status[TaskStatusName(TaskStatus::kDone)] == static_cast<int>(key_of->size())) break;
    if (elapsed() > static_cast<double>(opts.timeout_s)) {
      facts.timed_out = true;
      break;
    }
    bool idle = sched.active().empty() && step->active == 0 && !step->more && !*acted;
    idle_rounds = idle ? idle_rounds + 1 : 0;
    if (idle_rounds >= kIdleRoundsToStop) break;  // nothing running and nothing can start
    Wait(waiter, sched, step->next_wake);
  }
  view.Finish();
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  // Whatever still runs (a time limit or an error) is stopped: a demo leaves nothing behind.
  for (const auto& [id, run] : sched.active()) (void)sched.launcher().Kill(id);

  facts.interventions = person.done();
  facts.wall_seconds = elapsed();
  auto summary = CollectDemoSummary(**db, RealProcessRunner(), facts);
  if (!summary.ok()) return fail(summary.message());
  fputs(FormatDemoSummary(*summary).c_str(), out);
  if (!opts.json_summary.empty()) {
    Status w = WriteFileAtomic(opts.json_summary, summary->dump(2) + "\n");
    if (!w.ok()) return fail(w.message());
  }
  bool ok = error.empty() && (*summary)["all_done"].get<bool>();
  if (!error.empty()) Log("demo: {}", error);
  StopDashboard(&dashboard);
  if (temporary && !opts.keep && !opts.serve && ok) {
    db->reset();
    (void)RemoveAll(*dir);
    fmt::print(out, "\nRemoved {} (run with --keep or --dir DIR to look around).\n", *dir);
  } else {
    fmt::print(out, "\nThe project and its store are in {}; try:\n  cd {} && {} status\n", *dir, *dir, self);
    // Last, so it is what a person sees: the dashboard on what just ran.
    fmt::print(out, "\nOpen the dashboard on the demo's store:\n  cd {} && {} serve   # then browse http://127.0.0.1:8765/\n",
               *dir, self);
  }
  if (!ok) fmt::print(out, "\nNot every task reached done: see the table above and `pipeline status`.\n");
  fflush(out);
  return ok ? 0 : 1;
}

}  // namespace pipeline::demo
