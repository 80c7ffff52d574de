#include "slurm/job.h"

#include <cctype>
#include <utility>
#include <vector>

#include "util/text.h"

namespace pipeline::slurm {
namespace {

struct StateName {
  JobState state;
  const char* name;
};
constexpr StateName kStates[] = {
    {JobState::kPending, "PENDING"},         {JobState::kConfiguring, "CONFIGURING"},
    {JobState::kRunning, "RUNNING"},         {JobState::kSuspended, "SUSPENDED"},
    {JobState::kCompleting, "COMPLETING"},   {JobState::kRequeued, "REQUEUED"},
    {JobState::kCompleted, "COMPLETED"},     {JobState::kFailed, "FAILED"},
    {JobState::kCancelled, "CANCELLED"},     {JobState::kTimeout, "TIMEOUT"},
    {JobState::kOutOfMemory, "OUT_OF_MEMORY"}, {JobState::kNodeFail, "NODE_FAIL"},
    {JobState::kBootFail, "BOOT_FAIL"},      {JobState::kDeadline, "DEADLINE"},
    {JobState::kPreempted, "PREEMPTED"},
};

Error Bad(std::string what) { return Error{ErrorKind::kInvalidArgument, "slurm: " + std::move(what)}; }

// "E:S" → exit status and signal.
Status ParseExitCode(std::string_view v, JobInfo* info) {
  size_t colon = v.find(':');
  if (colon == std::string_view::npos) return Bad("exit code '" + std::string(v) + "' is not E:S");
  auto e = ParseInt64(v.substr(0, colon));
  auto s = ParseInt64(v.substr(colon + 1));
  if (!e || !s || *e < 0 || *s < 0 || *e > 255 || *s > 255)
    return Bad("exit code '" + std::string(v) + "' is not E:S");
  info->exit_code = static_cast<int>(*e);
  info->exit_signal = static_cast<int>(*s);
  return Status::Ok();
}

bool IsKeyToken(std::string_view tok) {
  size_t eq = tok.find('=');
  if (eq == 0 || eq == std::string_view::npos) return false;
  if (!std::isupper(static_cast<unsigned char>(tok[0]))) return false;
  for (size_t i = 0; i < eq; ++i) {
    unsigned char c = static_cast<unsigned char>(tok[i]);
    if (!std::isalnum(c) && c != '_' && c != ':' && c != '/') return false;
  }
  return true;
}

}  // namespace

Result<JobState> ParseJobState(std::string_view word) {
  std::string w = Trim(word);
  // "CANCELLED by 1000" (sacct), "CANCELLED+" (squeue's truncated forms).
  size_t cut = w.find_first_of(" +");
  if (cut != std::string::npos) w.resize(cut);
  for (const auto& s : kStates)
    if (w == s.name) return s.state;
  return Bad("unknown job state '" + std::string(word) + "'");
}

const char* JobStateName(JobState s) {
  for (const auto& n : kStates)
    if (n.state == s) return n.name;
  return "?";
}

bool IsFinal(JobState s) {
  switch (s) {
    case JobState::kPending:
    case JobState::kConfiguring:
    case JobState::kRunning:
    case JobState::kSuspended:
    case JobState::kCompleting:
    case JobState::kRequeued:
      return false;
    default:
      return true;
  }
}

JobOutcome OutcomeOf(JobState s) {
  switch (s) {
    case JobState::kCompleted:
      return JobOutcome::kSucceeded;
    case JobState::kFailed:
    case JobState::kDeadline:
      return JobOutcome::kFailed;
    case JobState::kTimeout:
      return JobOutcome::kTimeout;
    case JobState::kCancelled:
      return JobOutcome::kKilled;
    case JobState::kOutOfMemory:
      return JobOutcome::kOutOfMemory;
    case JobState::kNodeFail:
    case JobState::kBootFail:
    case JobState::kPreempted:
      return JobOutcome::kInfrastructure;
    default:
      return JobOutcome::kNotFinal;
  }
}

const char* JobOutcomeName(JobOutcome o) {
  switch (o) {
    case JobOutcome::kNotFinal: return "not final";
    case JobOutcome::kSucceeded: return "succeeded";
    case JobOutcome::kFailed: return "failed";
    case JobOutcome::kTimeout: return "timeout";
    case JobOutcome::kKilled: return "killed";
    case JobOutcome::kOutOfMemory: return "memory limit";
    case JobOutcome::kInfrastructure: return "infrastructure";
  }
  return "?";
}

bool IsJobId(std::string_view id) {
  if (id.empty() || id.size() > 18) return false;
  for (char c : id)
    if (c < '0' || c > '9') return false;
  return true;
}

Result<std::string> ParseSbatchParsable(std::string_view out) {
  std::string line = Trim(out);
  size_t semi = line.find(';');
  if (semi != std::string::npos) line.resize(semi);
  if (!IsJobId(line)) return Bad("sbatch printed '" + Trim(out) + "', not a job id");
  return line;
}

Result<JobInfo> ParseScontrolJob(std::string_view line) {
  std::vector<std::pair<std::string, std::string>> fields;
  for (const std::string& tok : SplitWhitespace(line)) {
    if (IsKeyToken(tok)) {
      size_t eq = tok.find('=');
      fields.emplace_back(tok.substr(0, eq), tok.substr(eq + 1));
    } else if (!fields.empty()) {
      fields.back().second += " " + tok;  // a value with spaces
    }
  }
  JobInfo info;
  bool have_id = false, have_state = false;
  for (const auto& [k, v] : fields) {
    if (k == "JobId") {
      if (!IsJobId(v)) return Bad("scontrol JobId '" + v + "' is not a job id");
      info.id = v;
      have_id = true;
    } else if (k == "JobState") {
      PL_ASSIGN_OR_RETURN(info.state, ParseJobState(v));
      have_state = true;
    } else if (k == "Reason") {
      info.reason = v;
    } else if (k == "ExitCode") {
      PL_RETURN_IF_ERROR(ParseExitCode(v, &info));
    } else if (k == "JobName") {
      info.name = v;
    } else if (k == "StdOut") {
      info.std_out = v;
    }
  }
  if (!have_id || !have_state) return Bad("scontrol printed no JobId/JobState: '" + std::string(line.substr(0, 80)) + "'");
  return info;
}

Result<JobInfo> ParseSqueueLine(std::string_view line) {
  std::vector<std::string> f = Split(Trim(line), '|');
  if (f.size() < 3) return Bad("squeue line '" + std::string(line) + "' is not ID|STATE|REASON");
  JobInfo info;
  if (!IsJobId(f[0])) return Bad("squeue job id '" + f[0] + "' is not a job id");
  info.id = f[0];
  PL_ASSIGN_OR_RETURN(info.state, ParseJobState(f[1]));
  info.reason = f[2];
  if (f.size() > 3) info.name = f[3];
  return info;
}

Result<JobInfo> ParseSacctLine(std::string_view line) {
  std::vector<std::string> f = Split(Trim(line), '|');
  if (f.size() < 4) return Bad("sacct line '" + std::string(line) + "' is not ID|NAME|STATE|EXIT");
  JobInfo info;
  if (!IsJobId(f[0])) return Bad("sacct job id '" + f[0] + "' is not a job id");
  info.id = f[0];
  info.name = f[1];
  PL_ASSIGN_OR_RETURN(info.state, ParseJobState(f[2]));
  PL_RETURN_IF_ERROR(ParseExitCode(f[3], &info));
  info.from_accounting = true;
  return info;
}

}  // namespace pipeline::slurm
