// The embedded scheduler: one Step harvests ended runs, moves tasks through
// the state machine (docs/scheduler.md), feeds the integration queue and
// starts dev runs in free slots. The event loop (event_loop.h) calls Step
// when something changed; tests and the demo call it directly.
//
// Every state change is one transaction; the processes that do the work
// (monitors, agents, verify commands, integrate workers) are started after the
// transaction that records them commits, so a crash between the two leaves a
// run row "never started", which Recover and Step repair without counting it
// as a failure. A Scheduler is used by one thread, with its own Db.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "git/git.h"
#include "ledger/ledger.h"
#include "proc/process.h"
#include "sched/sched_sql.h"
#include "sched/scheduler_options.h"
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
  int64_t default_budget_cents = 0;        // fund.default_budget_cents
  std::function<void(const SchedEvent&)> on_event;  // every action, as it happens
};

struct StepResult {
  int harvested = 0, started = 0, reopened = 0;
  int active = 0;     // runs of this scheduler still going (all phases)
  bool more = false;  // work is waiting for a free slot or a timer
  std::optional<Micros> next_wake;  // earliest back-off end or queue retry
};

// One run the scheduler watches.
struct ActiveRun {
  std::string run_id, task_id, domain, phase;
  pid_t monitor_pid = 0;
  bool our_child = false;  // started by this process: reap it
  int pidfd = -1;          // readable when the monitor exits; -1: none (poll the row)
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

  // For the event loop: the monitors being watched, and the report that one
  // of them exited (closes its pidfd, reaps our child).
  const std::map<std::string, ActiveRun>& active() const { return active_; }
  void OnMonitorExit(const std::string& run_id);
  // Waits (at most timeout) until every monitor this process started has
  // claimed its run or exited; called before exiting, so the next scheduler
  // finds claimed runs to adopt instead of young unclaimed ones.
  void WaitForClaims(Micros timeout);

  const SchedulerOptions& options() const { return options_; }
  const std::string& base() const { return base_; }

 private:
  // --- step phases (harvest.cc, start.cc, integrate_queue.cc) ---
  Status Harvest(StepResult* r);
  Status HarvestOne(const std::string& run_id, StepResult* r);
  Status HarvestDev(const RunRecord& run, StepResult* r);
  Status HarvestVerify(const RunRecord& run, StepResult* r);
  Status HarvestIntegrate(const RunRecord& run, StepResult* r);
  Status ReopenAnswered(StepResult* r);
  // Runs recorded but not claimed by a monitor within kClaimGrace: the
  // scheduler died before starting their monitor, or the monitor died
  // before claiming. Only this process starts scheduler runs and it holds
  // the lock; a monitor that is just late loses its compare-and-set claim.
  Status FailUnclaimedRuns();
  static constexpr Micros kClaimGrace = 5'000'000;
  Status FeedIntegration(StepResult* r);
  Status StartCandidates(StepResult* r);
  // Starts a dev run for a ready task. False (with the reason in *skip)
  // when it was not started and the slot should go to the next candidate.
  Result<bool> StartDev(const Candidate& c, const std::string& domain, std::string* skip);
  // Runs the monitor of a recorded run; on failure undoes the claim.
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
  Result<std::string> RecordIntegrateRun(const std::string& task_id, int64_t patchset);
  Status Promote(const std::string& task_id, const std::string& how);
  // A rejected patchset (verify or integration): back to open as a new
  // patchset with feedback, or needs-help past max_patchsets.
  Status Reject(const std::string& task_id, TaskStatus from, const std::string& feedback,
                const std::string& comment);
  Result<bool> HasNewCommit(const RunRecord& run);

  // --- helpers ---
  std::string NewRunId(const std::string& kind_or_domain, const std::string& task_id);
  Status Comment(const std::string& task_id, const std::string& text);
  void Emit(const std::string& kind, const std::optional<std::string>& task_id,
            const std::optional<std::string>& run_id, const std::string& detail);
  void Track(const std::string& run_id, const std::string& task_id, const std::string& domain,
             const std::string& phase, pid_t pid, bool child);
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
  std::unique_ptr<Git> git_;
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
  std::map<std::string, std::string> domain_of_ns_;  // DomainFor, cached
  std::vector<pid_t> zombies_;                // exited-or-exiting monitors to reap
  int64_t data_version_ = -1;
  bool monitor_exited_ = false;
  std::vector<std::string> exited_;  // runs whose monitor exited since the last step
};

}  // namespace pipeline
