// Talking to a Slurm cluster through its own commands (sbatch, scontrol,
// squeue, sacct, scancel, started from argv through the ProcessRunner seam).
// Every call has a deadline: with the controller down, sbatch and squeue
// retry for ~9 s and scontrol for ~18 s before failing, and the scheduler
// must not stall on that (scontrol ping answers at once, so check it first).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "proc/process.h"
#include "slurm/job.h"
#include "util/clock.h"
#include "util/status.h"

namespace pipeline::slurm {

struct ClientOptions {
  std::string slurm_conf;          // SLURM_CONF for every call; empty: Slurm's default
  int64_t command_timeout_ms = 30'000;
};

// One batch job. The script is a fixed file (JobScriptText) that execs its
// arguments, so the run's argv reaches the node as sbatch's script
// arguments: no data is ever written into shell text.
struct SubmitRequest {
  std::string job_name;            // derived from the run id (ValidName)
  std::string partition, account;  // empty: the cluster's default
  int time_limit_minutes = 0;      // 0: the partition's limit (Slurm's minimum is 1)
  int cpus = 0;                    // --cpus-per-task; 0: Slurm's default
  int64_t mem_mb = 0;              // --mem; 0: Slurm's default
  std::string chdir;               // the job's working directory
  std::string output;              // stdout+stderr file of the job script itself
  std::string comment;
  bool hold = false;               // submit held (tests; a person releases it)
  std::string script;              // path of the job script (WriteJobScript)
  std::vector<std::string> args;   // the argv the script execs
};

// The job script: "#!/bin/sh" then exec of "$@".
const char* JobScriptText();
// Writes JobScriptText() to dir/pipeline-job.sh (mode 0755) when absent or
// different; returns the path.
Result<std::string> WriteJobScript(const std::string& dir);

// Partition, account and job names reach sbatch as option values: letters,
// digits and ._- only (Slurm's own names are of that kind), 1..128 long.
bool ValidName(const std::string& s);

// The sbatch argv for a request (kInvalidArgument for a bad name).
Result<std::vector<std::string>> SbatchArgv(const SubmitRequest& r);

// One line of `scontrol show partition -o`.
struct PartitionInfo {
  std::string name;
  bool is_default = false;  // Default=YES
  std::string state;        // State=UP, DOWN, DRAIN, INACTIVE
};
Result<PartitionInfo> ParsePartitionLine(std::string_view line);

// How soon the controller starts a batch job after its submission, from the
// `SchedulerParameters` line of `scontrol show config`. Batch jobs are never
// started at submission: the controller's background pass starts them, about
// once a second, and only every batch_sched_delay seconds (Slurm's default:
// 3); `defer` also keeps other submissions from scheduling.
struct BatchScheduling {
  int batch_sched_delay_s = 3;
  bool defer = false;
};
// nullopt when the output has no SchedulerParameters line.
std::optional<BatchScheduling> ParseBatchScheduling(std::string_view show_config);

class Client {
 public:
  Client(ProcessRunner& runner, ClientOptions options);

  // kUnavailable with Slurm's own words when the controller does not answer.
  Status Ping();
  // The new job's id. A failed sbatch is kUnavailable (controller down, or
  // no answer before the deadline: the job may exist all the same) or
  // kRefused (e.g. "invalid partition specified"), with sbatch's message.
  Result<std::string> Submit(const SubmitRequest& r);
  // How long any one command may take (its deadline).
  Micros CommandDeadline() const { return options_.command_timeout_ms * 1000; }
  // The job as the controller knows it, or from the jobcomp record once the
  // controller has purged it (MinJobAge); nullopt when neither knows the id.
  Result<std::optional<JobInfo>> Query(const std::string& id);
  // The controller's view of many jobs in one call (squeue), keyed by id.
  // Jobs it has purged are absent (ask Query for those); a failed call is an
  // error, and the caller falls back to Query per job.
  Result<std::map<std::string, JobInfo>> QueueStates(const std::vector<std::string>& ids);
  // Every job with this name the controller or the jobcomp record knows
  // (adoption after a crash between sbatch and recording the id).
  Result<std::vector<JobInfo>> FindByName(const std::string& name);
  // scancel exits 0 even for unknown ids, so the caller confirms with Query.
  Status Cancel(const std::string& id);
  Status Release(const std::string& id);
  // Every partition the controller knows (scontrol show partition -o).
  Result<std::vector<PartitionInfo>> Partitions();
  // The controller's batch scheduling settings (scontrol show config).
  Result<BatchScheduling> BatchSchedulingSettings();

 private:
  Result<CommandResult> Call(std::vector<std::string> argv);
  Result<std::optional<JobInfo>> FromAccounting(const std::string& id);

  ProcessRunner& runner_;
  ClientOptions options_;
};

}  // namespace pipeline::slurm
