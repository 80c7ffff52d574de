// What Slurm says about one batch job, and what that means for a run.
// Slurm's own words (JobState, Reason, ExitCode) are parsed here from the
// plain-text forms every Slurm since 20.x prints (scontrol show job -o,
// squeue -o, sacct -c -P); 22.05's scontrol has no --json and squeue --json
// ignores -j, so text is the portable interface.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace pipeline::slurm {

enum class JobState {
  kPending,
  kConfiguring,
  kRunning,
  kSuspended,
  kCompleting,  // processes still being killed: not final
  kRequeued,
  kCompleted,
  kFailed,
  kCancelled,
  kTimeout,
  kOutOfMemory,
  kNodeFail,
  kBootFail,
  kDeadline,
  kPreempted,
};

// "CANCELLED by 0" and "CANCELLED+" read as kCancelled. kInvalidArgument for
// a word Slurm does not print (never guessed as running or ended).
Result<JobState> ParseJobState(std::string_view word);
const char* JobStateName(JobState s);
bool IsFinal(JobState s);

struct JobInfo {
  std::string id;
  JobState state = JobState::kPending;
  std::string reason;    // "Resources", "JobHeldUser", "None", "" when not given
  int exit_code = 0;     // the batch script's exit status (ExitCode=E:S)
  int exit_signal = 0;   // the signal that ended it (S)
  std::string name;      // JobName=
  std::string std_out;   // StdOut= (scontrol only)
  bool from_accounting = false;  // read from sacct -c (the controller had forgotten it)
};

// What a final job means for the run it carried. The run's own result file
// (written on the node by the monitor) is preferred; this is what the
// scheduler concludes when that file is missing or the job never ran it.
enum class JobOutcome {
  kNotFinal,        // pending or running: keep waiting
  kSucceeded,       // COMPLETED: read the result file
  kFailed,          // FAILED / DEADLINE: the run failed
  kTimeout,         // TIMEOUT: the run's time limit
  kKilled,          // CANCELLED by someone other than us
  kOutOfMemory,     // OUT_OF_MEMORY: failed, reason "memory limit"
  kInfrastructure,  // NODE_FAIL / BOOT_FAIL / PREEMPTED: retried without counting against the task
};
JobOutcome OutcomeOf(JobState s);
const char* JobOutcomeName(JobOutcome o);

// "12\n" or "12;cluster\n" (federation) from `sbatch --parsable`.
Result<std::string> ParseSbatchParsable(std::string_view out);

// One line of `scontrol show job -o ID`. Values may hold spaces (Command=,
// WorkDir=, Comment=), so a value runs up to the next " Key=" of a known key.
Result<JobInfo> ParseScontrolJob(std::string_view line);

// One line of `squeue -h -t all -o '%i|%T|%r|%j'`.
Result<JobInfo> ParseSqueueLine(std::string_view line);

// One line of `sacct -c -n -P -o JobID,JobName,State,ExitCode`.
Result<JobInfo> ParseSacctLine(std::string_view line);

// A Slurm job id: digits only (array and het-job ids are not ours).
bool IsJobId(std::string_view id);

}  // namespace pipeline::slurm
