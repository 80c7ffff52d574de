// The cluster launcher: each run the scheduler records is one Slurm batch
// job (`sbatch`), which runs `pipeline agent __job RUN_DIR` on a node — the
// same supervised run as a local one, its store node-local and private; the
// result comes back as files in a directory both hosts share
// (slurm/node_job.h). The scheduler keeps what only it knows: budgets held
// before submission, one run per domain, the merge queue, the store.
//
// What the Launcher questions mean here (sched/launcher.h):
//  * claim: the job id, written to the run's row when sbatch answers
//    (ClaimRunForClusterJob). sbatch runs off the scheduler's thread
//    (slurm/submitter.h): Launch returns once the job's files are written,
//    and the answer is taken at the next step, which the answer wakes. A
//    crash between sbatch and the claim is repaired on adoption by looking
//    the job up by its name, derived from the run id: never submitted twice.
//  * alive: squeue/scontrol/sacct say the job is not final.
//  * end: result.json, seen at once through an inotify watch on the run's
//    directory where the node shares this host's kernel (slurm/result_watch.h),
//    and at every poll otherwise (Slurm gives a client no event); imported in
//    one transaction, or, for a job that ended without one, its Slurm state
//    mapped onto ours (TIMEOUT -> timeout, CANCELLED -> killed,
//    OUT_OF_MEMORY -> failed "memory limit", NODE_FAIL / PREEMPTED ->
//    failed "cluster: ..." which the scheduler does not count against the task).
//  * kill: scancel; the row says killed once the job is gone.
// Integration runs stay on this host (a LocalLauncher): the merge queue
// moves the base branch of the repository here, next to the store.
#pragma once

#include <limits>
#include <map>
#include <set>
#include <optional>
#include <string>

#include "sched/launcher.h"
#include "sched/local_launcher.h"
#include "slurm/client.h"
#include "slurm/node_job.h"
#include "slurm/result_watch.h"
#include "slurm/submitter.h"
#include "store/root.h"

namespace pipeline::slurm {

// What one job asks of the cluster. Every field is optional so that a
// domain's or a profile's section overrides only what it names.
struct JobSettings {
  std::optional<std::string> partition;        // dev runs
  std::optional<std::string> check_partition;  // verify runs (not in a profile: checks run no agent)
  std::optional<std::string> account;
  std::optional<int> time_limit_minutes, cpus;
  std::optional<int64_t> mem_mb;
};

struct ExecutorOptions {
  std::string shared_dir;        // reachable from every node: runs/<id>/ live here
  std::string partition;         // dev runs; empty: the cluster's default
  std::string check_partition;   // verify runs; empty: partition
  std::string account;
  int time_limit_minutes = 0;
  int cpus = 0;
  int64_t mem_mb = 0;
  std::string self_exe;          // the pipeline binary the nodes run (same path on every node)
  Micros poll_every = 500'000;
  // [executor.slurm.domains."D"] and [executor.slurm.profiles.P].
  std::map<std::string, JobSettings> domains, profiles;
  std::string default_profile;   // the profile of a dev run whose row names none
};

// Where and how big one run's job is. Each setting comes from the first of:
// the dev run's profile section, the run's domain section, the executor's
// own keys. A verify run has no agent, so no profile section applies: its
// partition is the domain's check_partition, else the executor's, else the
// dev partition (domain, then executor).
struct JobPlacement {
  std::string partition, account;
  int time_limit_minutes = 0, cpus = 0;
  int64_t mem_mb = 0;
};
JobPlacement PlaceJob(const ExecutorOptions& o, const std::string& phase, const std::string& domain,
                      const std::string& profile);

// The job name of a run: "pl-" and the run id with every character outside
// [A-Za-z0-9._-] replaced by '_', at most 128 bytes.
std::string JobNameForRun(const std::string& run_id);

// For a scheduler whose executor is not a cluster: runs left out on one
// (the executor was "slurm" when they started) end only through its
// launcher, so this one would wait for them for ever, and their jobs would
// work in the same worktrees as its own runs. Those a person gave up
// (`pipeline agent kill RUN`, once the job is cancelled) are recorded killed
// here, in one transaction (not on a dry run); any other is refused with a
// one-line error that names the jobs and says what to do.
Status CheckNoRunsLeftOnACluster(Db& db, Clock& clock, bool dry_run);

class Launcher final : public pipeline::Launcher {
 public:
  Launcher(Db& db, RootPaths paths, Clock& clock, Client& client, ExecutorOptions options);

  Status Launch(const LaunchRequest& run) override;
  void Adopt(const RunRecord& run) override;
  void Forget(const std::string& run_id) override;
  Status Reconcile(bool watching) override;
  std::vector<Watch> Watches() const override;
  void OnReadable(const std::string& run_id) override;
  std::optional<Micros> PollEvery() const override;
  Status Kill(const std::string& run_id) override;
  void Detach(Micros timeout) override;

  // Why a run's job waits ("queued on Slurm: Resources"), for status.
  std::optional<std::string> PendingReason(const std::string& run_id) const;
  std::string RunDirFor(const std::string& run_id) const;

 private:
  struct Job {
    std::string id;           // empty: not yet claimed (adopted before the claim)
    std::string pending_reason;
    bool cancel_sent = false;  // scancel asked for a kill another process requested
  };
  // A kill asked through the store (`pipeline agent kill`, a cancel from the
  // dashboard) only marks the row: its job is cancelled here, once.
  Status CancelRequestedKills();
  // The run ended: import its result, or record what Slurm says.
  // known: the job's state from this poll's one squeue call, when it had it.
  Status Settle(const RunRecord& row, Job& job, const JobInfo* known);
  // Records a changed pending reason as a kClusterQueueEvent ("" once the
  // job runs): one small write per change, for `status` to read.
  Status NotePendingReason(const RunRecord& row, Job& job, std::string reason);
  Status Import(const std::string& run_id, const Job& job, JobResult result);
  // Claims the runs whose sbatch answered since the last look, and fails
  // those whose sbatch failed (the run certainly did not start).
  Status TakeSubmissions();

  // How often the controller is asked about jobs without a result: the
  // poll period, but not more often than once in kQueueEveryAtLeast.
  Micros QueueEvery() const;
  static constexpr Micros kQueueEveryAtLeast = 1'000'000;
  // The ids our own descriptors carry in Watches(): a '/' is never in a run id.
  static constexpr const char* kResultsWatch = "/slurm/results";
  static constexpr const char* kSubmissionsWatch = "/slurm/submissions";

  Db& db_;
  RootPaths paths_;
  Clock& clock_;
  Client& client_;
  ExecutorOptions options_;
  std::map<std::string, Job> jobs_;
  std::set<std::string> local_runs_;  // integration runs, the local launcher's
  bool reconciled_ = false;
  Submitter submitter_{client_};
  ResultWatch results_;
  bool store_template_written_ = false;
  Micros last_queue_read_ = std::numeric_limits<Micros>::min() / 2;  // never: ask at the first poll
  LocalLauncher local_;  // integration runs
};

}  // namespace pipeline::slurm
