// The embedded scheduler: one Step harvests ended runs, moves tasks through
// the state machine (docs/scheduler.md), feeds the integration queue and
// starts dev runs in free slots. The event loop (event_loop.h) calls Step
// when something changed; tests and the demo call it directly.
//
// Every state change is one transaction; the work itself (agents, verify
// commands, integrate workers) is handed to a Launcher (launcher.h) after the
// transaction that records it commits, so a crash between the two leaves a
// run row "never started", which Recover and Step repair without counting it
// as a failure. The scheduler never waits for a process: it learns that a
// run ended from the row its worker wrote. Git goes through a TaskRepo
// (task_repo.h). With a FakeLauncher, a FakeTaskRepo and a FakeClock a
// Scheduler runs entirely in-process. A Scheduler is used by one thread,
// with its own Db.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ledger/ledger.h"
#include "proc/process.h"
#include "sched/launcher.h"
#include "sched/sched_sql.h"
#include "sched/scheduler_options.h"
#include "sched/task_repo.h"
#include "sched/transitions.h"
#include "store/db.h"
#include "store/root.h"
#include "tasks/task_store.h"
#include "util/clock.h"

namespace pipeline {

// One thing the scheduler did (or, under --dry-run, would do).
struct SchedEvent {
  Micros at = 0;
  std::string kind;  // "start", "harvest", "transition", "skip", "error", ...
  std::optional<std::string> task_id, run_id;
  std::string detail;
};

struct SchedulerEnv {
  std::string self_exe;                    // the pipeline binary; empty: this executable
  ProcessRunner* runner = nullptr;         // for git; null: the real one
  // Executes runs; null: a LocalLauncher (a monitor process per run) owned
  // by the scheduler. Not owned; outlives the scheduler (a fake launcher's
  // runs survive a dropped scheduler, as monitors do).
  Launcher* launcher = nullptr;
  // Task branches and worktrees; null: git through `runner`. Not owned.
  TaskRepo* repo = nullptr;
  int64_t default_budget_cents = 0;        // fund.default_budget_cents
  std::function<void(const SchedEvent&)> on_event;  // every action, as it happens
  // Asked before each dev start: an error (e.g. "not enough free memory")
  // starts nothing this step and looks again shortly. Null: always go.
  std::function<Status()> memory_gate;
};

struct StepResult {
  int harvested = 0, started = 0, reopened = 0;
  int active = 0;     // runs of this scheduler still going (all phases)
  bool more = false;  // work is waiting for a free slot or a timer
  std::optional<Micros> next_wake;  // earliest back-off end or queue retry
};

// One run the scheduler counts against its limits until it is harvested.
struct ActiveRun {
  std::string run_id, task_id, domain, phase;
};

class Scheduler {
 public:
  Scheduler(SchedulerOptions options, Db& db, RootPaths paths, Clock& clock, SchedulerEnv env = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Once, before the first Step: resolve the base branch, fail runs that
  // never started, adopt live ones, reopen orphaned claims, remove worktrees
  // of finished or unknown tasks. Under dry-run only reads and reports.
  Status Recover();
  Result<StepResult> Step();

  // The runs out, and the launcher the wait loop watches them through.
  const std::map<std::string, ActiveRun>& active() const { return active_; }
  Launcher& launcher() { return *launcher_; }
  // Called before exiting: Launcher::Detach.
  void WaitForClaims(Micros timeout) { launcher_->Detach(timeout); }

  const SchedulerOptions& options() const { return options_; }
  const std::string& base() const { return base_; }
  Clock& clock() const { return clock_; }

 private:
  // How soon a start refused for memory is tried again.
  static constexpr Micros kMemoryRecheck = 5'000'000;
  // --- step phases (harvest.cc, start.cc, integrate_queue.cc) ---
  Status Harvest(StepResult* r);
  Status HarvestOne(const std::string& run_id, StepResult* r);
  Status HarvestDev(const RunRecord& run, StepResult* r);
  Status HarvestVerify(const RunRecord& run, StepResult* r);
  Status HarvestIntegrate(const RunRecord& run, StepResult* r);
  Status ReopenAnswered(StepResult* r);
  Status FeedIntegration(StepResult* r);
  Status StartCandidates(StepResult* r);
  // Starts a dev run for a ready task. False (with the reason in *skip)
  // when it was not started and the slot should go to the next candidate.
  Result<bool> StartDev(const Candidate& c, const std::string& domain, std::string* skip);
  // Hands a recorded run to the launcher; on failure undoes the claim.
  void LaunchRecorded(const std::string& run_id, const std::string& task_id, const std::string& domain,
                      const std::string& phase);
  Status FailStart(const std::string& run_id, const std::string& task_id, const std::string& phase,
                   const std::string& why);

  // Applies a dev-run decision inside the caller's transaction.
  Status ApplyFailure(const std::string& task_id, const Decision& d, const std::string& run_id);
  // Records a verify run for the task (in the caller's transaction); returns
  // its id, or nullopt when no verify command is configured (the task is
  // promoted at once).
  Result<std::optional<std::string>> RecordVerifyRun(const std::string& task_id, const std::string& domain,
                                                     int64_t patchset);
  // One integrate run for tasks (queue order): `integrate-task` for a batch
  // of one when integrate.batch_max is 1, else `integrate-batch`.
  Result<std::string> RecordIntegrateRun(const std::vector<std::string>& tasks, int64_t patchset,
                                         bool recheck_base);
  // Applies one change's answer from an integrate run (inside the caller's
  // transaction); *done when the task is now done.
  Status ApplyIntegrateAnswer(const RunRecord& run, const std::string& task_id, const nlohmann::json& answer,
                              bool dirty, std::string* summary, bool* done);
  Status Promote(const std::string& task_id, const std::string& how);
  // A rejected patchset (verify or integration): back to open as a new
  // patchset with feedback, or needs-help past max_patchsets.
  Status Reject(const std::string& task_id, TaskStatus from, const std::string& feedback,
                const std::string& comment);
  // Whether the run added commits to the task branch (taking them there from
  // a branch of the agent's own); kRefused with the reason when they cannot be.
  Result<bool> HasNewCommit(const RunRecord& run);
  // The verify run's directory: a detached checkout of the task's commit.
  std::string VerifyWorkspaceFor(const std::string& task_id) const;
  // Prepares that checkout, then LaunchRecorded; a failure fails the start.
  void LaunchVerify(const std::string& run_id, const std::string& task_id, const std::string& domain);

  // --- helpers ---
  std::string NewRunId(const std::string& kind_or_domain, const std::string& task_id);
  Status Comment(const std::string& task_id, const std::string& text);
  void Emit(const std::string& kind, const std::optional<std::string>& task_id,
            const std::optional<std::string>& run_id, const std::string& detail);
  void Track(const std::string& run_id, const std::string& task_id, const std::string& domain,
             const std::string& phase);
  void Untrack(const std::string& run_id);
  int DevActive(const std::string& domain) const;
  std::string WorkspaceFor(const std::string& task_id) const;
  void NoteWake(Micros at);

  SchedulerOptions options_;
  Db& db_;
  RootPaths paths_;
  Clock& clock_;
  SchedulerEnv env_;
  TaskStore tasks_;
  Ledger ledger_;
  std::unique_ptr<Launcher> own_launcher_;
  Launcher* launcher_ = nullptr;
  std::unique_ptr<TaskRepo> own_repo_;
  TaskRepo* repo_ = nullptr;  // null in shared-workspace mode
  std::string base_;
  bool dry_ = false;

  std::map<std::string, ActiveRun> active_;
  std::map<std::string, int> dev_by_domain_;  // active dev runs per domain
  int dev_total_ = 0;
  int integrating_ = 0;                       // active integrate runs (one base: at most one)
  std::set<std::string> budget_refused_;      // domains refused this data version
  std::set<std::string> reported_no_ns_;      // tasks already reported as lacking a namespace
  std::multiset<Micros> wakes_;               // back-off ends and queue retries
  Micros integrate_not_before_ = 0;
  // The checkout as it was when integration answered `waiting` (empty: not
  // waiting): the queue retries when it changes, not on a timer
  // (integrate_queue.cc).
  std::string integrate_waiting_fp_, integrate_waiting_checkout_;
  std::vector<std::string> integrate_waiting_files_;
  // The base commit the last batch saw passing its check (empty: unknown);
  // passed to the next batch so a red batch need not re-check the base.
  std::string integrate_green_base_;
  std::map<std::string, std::string> domain_of_ns_;  // DomainFor, cached
  int64_t data_version_ = -1;
};

}  // namespace pipeline
