// Test helper: a scheduler in a box. A store in a temporary root, a
// FakeClock, a FakeTaskRepo and a FakeLauncher, and a Scheduler built on them
// that can be dropped and rebuilt on the same store (a crash). Used by the
// scheduler's unit tests and the simulation; no process is started.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ledger/ledger.h"
#include "sched/fake_launcher.h"
#include "sched/fake_task_repo.h"
#include "sched/scheduler.h"
#include "store/root.h"
#include "tasks/task_store.h"
#include "util/files.h"

namespace pipeline::sched_testing {

// A temporary directory on tmpfs when there is one (the store's writes then
// cost no disk), removed at destruction.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string tmpl = std::string(base) + "/pipeline-sched-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back(0);
    if (!mkdtemp(buf.data())) abort();
    path_ = buf.data();
  }
  ~ScratchDir() { (void)RemoveAll(path_); }
  ScratchDir(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A fresh store at paths: a copy of one created (and migrated) once per
// process, since creating the schema costs more than a whole simulated seed.
inline bool CopyTemplateStore(const RootPaths& paths) {
  static ScratchDir dir;
  static const bool made = [] {
    auto db = CreateStore(RootPaths{dir.path() + "/.pipeline"});
    return db.ok();  // closing keeps the WAL: both files are the store
  }();
  if (!made) return false;
  std::string from = dir.path() + "/.pipeline";
  for (const std::string& d : {paths.root, paths.runs_dir(), paths.prompts_dir(), paths.worktrees_dir()})
    if (!MakeDirs(d).ok()) return false;
  for (const char* f : {"/pipeline.db", "/pipeline.db-wal"}) {
    auto data = ReadFile(from + f);
    if (data.ok() && !WriteFileAtomic(paths.root + f, *data, FileSync::kNoFsync).ok()) return false;
  }
  return true;
}

// Options for tests: worktree mode on the fake repo, base "main", a verify
// command, one run per domain, small holds.
inline SchedulerOptions TestOptions() {
  SchedulerOptions o;
  o.max_active = 4;
  o.reserve_cents = 100;
  o.base = "main";
  o.verify.fallback.command = std::vector<std::string>{"make", "check"};
  o.backoff_base_s = 30;
  o.integrate_retry_s = 5;
  o.max_retries = 3;
  // The serial queue (one task per integrate-task run): the tests written
  // for it hold for integrate.batch_max = 1; merge_queue_test.cc sets more.
  o.batch_max = 1;
  return o;
}

class SchedWorld {
 public:
  explicit SchedWorld(SchedulerOptions options = TestOptions())
      : options(std::move(options)), paths{dir_.path() + "/.pipeline"}, repo(paths) {
    if (!CopyTemplateStore(paths)) abort();
    auto db = OpenStore(paths);
    if (!db.ok()) {
      ADD_FAILURE() << db.message();
      abort();
    }
    store = std::move(*db);
    auto person = OpenStore(paths);
    if (!person.ok()) abort();
    person_db = std::move(*person);
    launcher = std::make_unique<FakeLauncher>(*person_db, clock, &repo);
  }

  // Builds the scheduler (again) on the store and runs its recovery.
  Status Start() {
    sched.reset();
    SchedulerEnv env;
    env.self_exe = "/nonexistent/pipeline";  // nothing may be spawned
    env.launcher = launcher.get();
    env.repo = &repo;
    env.on_event = [this](const SchedEvent& e) { events.push_back(e); };
    env.memory_gate = memory_gate;
    sched = std::make_unique<Scheduler>(options, *store, paths, clock, env);
    return sched->Recover();
  }

  // The scheduler process dies: the object is dropped and the store
  // reopened (its connection dies with it); the launcher's runs go on.
  Status Crash() {
    sched.reset();
    store.reset();
    auto db = OpenStore(paths);
    if (!db.ok()) return db.status();
    store = std::move(*db);
    return Start();
  }

  std::function<Status()> memory_gate;  // null: memory never refuses

  StepResult Step() {
    auto r = sched->Step();
    EXPECT_TRUE(r.ok()) << r.message();
    return r.ok() ? *r : StepResult{};
  }

  // --- the backlog and the people, through their own connection ---
  std::string AddTask(const std::string& ns, std::vector<std::string> deps = {}, int priority = 2,
                      std::optional<std::string> no_ns = std::nullopt) {
    TaskStore tasks(*person_db, clock);
    NewTask t;
    t.title = "task in " + (no_ns ? *no_ns : ns);
    if (!no_ns) t.ns = ns;
    t.deps = std::move(deps);
    t.priority = priority;
    auto made = tasks.Create(t);
    EXPECT_TRUE(made.ok()) << made.message();
    return made.ok() ? made->id : "";
  }
  void SetBudget(const std::string& domain, int64_t cents) {
    Ledger l(*person_db, clock, 0);
    ASSERT_TRUE(l.SetBudget(domain, cents).ok());
  }
  void Grant(const std::string& domain, int64_t cents) {
    Ledger l(*person_db, clock, 0);
    ASSERT_TRUE(l.Grant(domain, cents).ok());
  }
  void Answer(const std::string& task_id, const std::string& text = "use the other API") {
    clock.Advance(1000);  // after the run's end
    TaskStore tasks(*person_db, clock);
    ASSERT_TRUE(tasks.AddComment(task_id, text, "human").ok());
  }
  void SetStatus(const std::string& task_id, TaskStatus s) {
    TaskStore tasks(*person_db, clock);
    ASSERT_TRUE(tasks.SetStatus(task_id, s).ok());
  }

  // --- reading the store ---
  Task GetTask(const std::string& id) {
    TaskStore tasks(*person_db, clock);
    auto t = tasks.Get(id);
    EXPECT_TRUE(t.ok()) << t.message();
    return t.ok() ? *t : Task{};
  }
  std::string StatusOf(const std::string& id) { return TaskStatusName(GetTask(id).status); }
  DomainReport Budget(const std::string& domain) {
    Ledger l(*person_db, clock, 0);
    auto r = l.Check(domain);
    EXPECT_TRUE(r.ok()) << r.message();
    return r.ok() ? *r : DomainReport{};
  }
  // The single integer a query returns (-1 on failure).
  int64_t Count(const std::string& sql) {
    auto s = person_db->Prepare(sql);
    if (!s.ok()) {
      ADD_FAILURE() << s.message();
      return -1;
    }
    auto row = s->Step();
    if (!row.ok() || !*row) return -1;
    return s->Int(0);
  }
  RunRecord Run(const std::string& run_id) {
    auto r = GetRun(*person_db, run_id);
    EXPECT_TRUE(r.ok()) << r.message();
    return r.ok() ? *r : RunRecord{};
  }
  // The launcher's running runs of a task in a phase ("" for any).
  std::vector<std::string> RunsOf(const std::string& task_id, const std::string& phase = "") {
    std::vector<std::string> out;
    for (const auto& id : launcher->Running(phase))
      if (launcher->Request(id)->task_id == task_id) out.push_back(id);
    return out;
  }
  // The one running run of the task in the phase (a test failure otherwise).
  std::string OnlyRun(const std::string& task_id, const std::string& phase) {
    auto runs = RunsOf(task_id, phase);
    EXPECT_EQ(runs.size(), 1u) << "runs of " << task_id << " in " << phase;
    return runs.empty() ? "" : runs.front();
  }
  int EventsOf(const std::string& kind) {
    int n = 0;
    for (const auto& e : events) n += e.kind == kind;
    return n;
  }

 private:
  ScratchDir dir_;

 public:
  SchedulerOptions options;
  RootPaths paths;
  FakeClock clock;
  FakeTaskRepo repo;
  std::unique_ptr<Db> store;      // the scheduler's connection
  std::unique_ptr<Db> person_db;  // the workers' and people's connection
  std::unique_ptr<FakeLauncher> launcher;
  std::unique_ptr<Scheduler> sched;
  std::vector<SchedEvent> events;
};

}  // namespace pipeline::sched_testing
