// The launcher seam: how a run the scheduler recorded gets executed, and how
// the scheduler learns that it ended.
//
// The scheduler records a run (one transaction: the task's claim, the budget
// hold and the row in `starting`) and hands it to Launch. From then on the
// row belongs to whatever executes the run, its *worker*: the worker claims
// the row (monitor_pid/monitor_start name it), marks it running, and writes
// the final row (FinishRun) when the run ends. The scheduler never waits for
// a process and never reads a run's outcome from anywhere but the store: it
// harvests ended rows (harvest.cc). The launcher only tells it *when* to look
// (Watches, PollEvery) and records the end of runs whose worker vanished
// without writing one (Reconcile), because only the launcher knows what
// "still alive" means for its workers.
//
// Implementations, and what the three hard questions mean for each:
//  * LocalLauncher (local_launcher.h): a monitor process per run
//    (`pipeline agent __monitor RUN_ID`). Alive: the monitor's pid with its
//    kernel start time. End: its pidfd becomes readable. Adopt after a
//    restart: open a pidfd on the pid in the row. Kill: kill_requested in the
//    row, then SIGUSR1 to the monitor.
//  * A sandboxed local launcher (Landlock, namespaces): the same monitor
//    started inside the sandbox. A different spawn, the same liveness, end,
//    adoption and kill; nothing in the scheduler changes.
//  * A cluster launcher (Slurm): Launch is `sbatch` (its job id is the claim,
//    written to the row); the job runs the monitor on a node, which writes
//    its result to files under the run directory. Alive: squeue/sacct say the
//    job is pending or running. End: no fd; PollEvery gives the polling
//    period and Reconcile imports the result files into the row (FinishRun),
//    or fails the row when the job vanished without them. Adopt: the job id
//    from the row. Kill: scancel. A job pending for hours is "accepted", not
//    "never started": the claim grace below is the launcher's to decide.
//  * FakeLauncher (fake_launcher.h): finishes runs in-process when a test or
//    the simulation tells it to, writing the same rows a monitor writes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/run_record.h"
#include "store/db.h"
#include "util/clock.h"
#include "util/status.h"

namespace pipeline {

// A run recorded in `starting`; its row holds everything needed to run it.
struct LaunchRequest {
  std::string run_id, task_id, domain, phase;  // phase: "dev", "verify", "integrate"
};

class Launcher {
 public:
  virtual ~Launcher() = default;

  // Starts the worker of a recorded run and returns without waiting for the
  // run, and preferably without waiting for the worker's start-up, so starts
  // do not queue behind each other. An error means the run certainly did not
  // start: the scheduler fails the row, releases its hold and frees the slot.
  // A worker that starts but cannot run the agent fails the row itself.
  virtual Status Launch(const LaunchRequest& run) = 0;

  // After a restart the scheduler found this run active in the store
  // (`starting` or `running`) and waits for its end: watch the worker the
  // row names, or, when the row is not claimed yet, wait for the claim.
  virtual void Adopt(const RunRecord& run) = 0;

  // The run was harvested (or failed to start): stop watching it and free
  // what watching it held (a pidfd, a zombie to reap).
  virtual void Forget(const std::string& run_id) = 0;

  // Called before every step while runs are out (watching: the scheduler
  // tracks at least one run) and once at recovery. Records in the store the
  // end of every run that can no longer end by itself: accepted but its
  // worker is gone ("monitor died", counted as a failure), or recorded and
  // never accepted ("never started", retried without counting). Those rows
  // are then harvested like any other.
  virtual Status Reconcile(bool watching) = 0;

  // What the wait loop sleeps on: a descriptor per watched run that becomes
  // readable when its worker ends. Report readiness with OnReadable.
  struct Watch {
    int fd = -1;
    std::string run_id;
  };
  virtual std::vector<Watch> Watches() const = 0;
  virtual void OnReadable(const std::string& run_id) = 0;
  // Some watched run can only be polled (no descriptor: an adopted monitor
  // that has not claimed its run yet, a cluster job): step at least this
  // often. nullopt: every end arrives through Watches.
  virtual std::optional<Micros> PollEvery() const = 0;

  // Asks a run to stop; its worker records `killed`. kRefused when the run
  // already ended, kNotFound for no such run.
  virtual Status Kill(const std::string& run_id) = 0;

  // Before the scheduler exits: waits (at most timeout) until every run it
  // launched was accepted by its worker or ended, so the next scheduler
  // adopts claimed runs instead of failing young unclaimed ones.
  virtual void Detach(Micros timeout) = 0;
};

// Fails (status failed, error "never started") every scheduler run still
// unclaimed in `starting` that was recorded more than `grace` ago: the
// scheduler died between recording it and launching it, or the worker died
// before claiming it. A worker that is merely late loses its compare-and-set
// claim. One transaction; for launchers whose claim is immediate.
Status FailUnclaimedRuns(Db& db, Micros now, Micros grace);
inline constexpr Micros kClaimGrace = 5'000'000;

// A run a cluster launcher ends because the machine failed, not the run
// (the node died, the job was preempted) carries an error with this prefix
// ("cluster: NODE_FAIL"). The scheduler retries such a run without counting
// it against the task's attempts.
inline constexpr const char* kClusterErrorPrefix = "cluster: ";
bool IsClusterInfrastructureError(const std::string& error);

// Why a run's cluster job waits, as the launcher last saw it: an event of
// this kind for the run (detail: the cluster's own reason, e.g. "Resources";
// "" once the job started), written only when the reason changes. `status`
// is another process than the scheduler and reads it from the store.
inline constexpr const char* kClusterQueueEvent = "cluster-queue";
// "queued on Slurm: Resources" for a run whose last such event has a reason;
// nullopt otherwise. Inside a read transaction.
Result<std::optional<std::string>> ClusterQueueReason(Db& db, const std::string& task_id, const std::string& run_id);

}  // namespace pipeline
