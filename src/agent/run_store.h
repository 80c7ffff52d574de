// The runs table: inserting a run, reading it, and the transitions its
// monitor makes. Every change is one transaction (Db::Write, which joins an
// outer one), and every transition is a compare-and-set on the status, so a
// monitor and a reaper that race never both win.
#pragma once

#include <string>
#include <vector>

#include "agent/run_record.h"
#include "store/db.h"
#include "store/root.h"
#include "util/clock.h"

namespace pipeline {

// .pipeline/runs/RUN_ID (logs of one run). REQUIRES: ValidateRunId(run_id).
std::string RunDir(const RootPaths& paths, const std::string& run_id);

// Row in `starting`; kConflict if the run id exists, kInvalidArgument for a bad
// id. The request (argv, model, env) is kept as JSON in runs.argv_json. Joins
// an outer transaction.
Status InsertRun(Db& db, const RunSpec& spec, Clock& clock);
Result<RunRecord> GetRun(Db& db, const std::string& run_id);
// Newest first.
Result<std::vector<RunRecord>> ListRuns(Db& db, bool active_only);

// Notices dead monitors (status starting/running, monitor pid not alive:
// "monitor died", the agent's group is killed) and runs left in `starting`
// without a monitor for more than kNeverStartedMicros ("never started"), and
// marks them failed (CAS). Returns the ids it changed.
Result<std::vector<std::string>> ReapDeadMonitors(Db& db, Clock& clock);
inline constexpr Micros kNeverStartedMicros = 10'000'000;

// --- transitions made by the monitor ---

// starting (no monitor yet) -> starting with monitor_pid/monitor_start set.
// kRefused when the row is no longer waiting for a monitor.
Result<RunRecord> ClaimRunForMonitor(Db& db, const std::string& run_id, pid_t pid, uint64_t start_time);
// starting (unclaimed) -> starting, handed to the cluster launcher `executor`
// (before its submission is answered): from then on the row is that
// launcher's alone, like a claimed one. kRefused when the row is no longer
// waiting to start.
Status MarkRunForCluster(Db& db, const std::string& run_id, const std::string& executor);
// Whether a cluster launcher has the run (handed to it, or claimed by a job).
Result<bool> RunIsOnCluster(Db& db, const std::string& run_id);
// The runs a cluster launcher has that have not ended, and whether a kill
// was asked of each (by `agent kill` or a cancel, from any process).
struct ClusterRunRef {
  std::string run_id;
  std::string job;  // empty until sbatch's answer claims it
  bool kill_requested = false;
};
Result<std::vector<ClusterRunRef>> ActiveClusterRuns(Db& db);
// starting (unclaimed) -> starting claimed by cluster job `job_id`: the run
// is out on a cluster, and its end comes back through files the launcher
// imports (slurm/node_job.h). ReapDeadMonitors leaves such rows alone: only
// the cluster launcher can tell whether the job still lives. kRefused when
// the row is no longer waiting to start.
Status ClaimRunForClusterJob(Db& db, const std::string& run_id, const std::string& job_id);
// The cluster job that claimed the run, if any.
Result<std::optional<std::string>> ClusterJobOfRun(Db& db, const std::string& run_id);
// The agent is running: agent pid, start time, head before, resolved profile.
Status MarkRunRunning(Db& db, const std::string& run_id, pid_t agent_pid, Micros started_at,
                      const std::optional<std::string>& head_before, const std::string& profile);
// Cost and turns so far (only while active).
Status UpdateRunProgress(Db& db, const std::string& run_id, double cost_cents, int64_t turns);

struct RunOutcome {
  RunStatus status = RunStatus::kFailed;
  std::optional<int> exit_code, term_signal;
  Micros ended_at = 0;
  double cost_cents = 0;
  int64_t turns = 0;
  std::optional<std::string> head_after, error;
};
// The final transaction: active -> terminal, everything at once. kRefused if
// the run was already terminal (reaped meanwhile).
Status FinishRun(Db& db, const std::string& run_id, const RunOutcome& outcome);
// active -> failed with an error (used when the agent cannot be started).
Status FailRun(Db& db, const std::string& run_id, const std::string& error, Micros now);
// Sets kill_requested on an active run; kRefused when it already ended.
Status MarkKillRequested(Db& db, const std::string& run_id);
bool KillRequested(Db& db, const std::string& run_id);

}  // namespace pipeline
