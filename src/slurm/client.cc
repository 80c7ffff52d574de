#include "slurm/client.h"

#include <sys/stat.h>

#include <utility>

#include "util/files.h"
#include "util/text.h"

namespace pipeline::slurm {
namespace {

std::string FirstLine(const std::string& s) {
  std::string t = Trim(s);
  size_t nl = t.find('\n');
  return nl == std::string::npos ? t : t.substr(0, nl);
}

// Slurm's words for "the controller cannot be reached".
bool ControllerDown(const CommandResult& r) {
  return r.timed_out || r.err.find("Unable to contact slurm controller") != std::string::npos ||
         r.err.find("connect failure") != std::string::npos;
}

Error Failed(const std::string& what, const CommandResult& r) {
  std::string why = r.timed_out ? "no answer before the deadline" : FirstLine(r.err.empty() ? r.out : r.err);
  if (why.empty()) why = "exit " + std::to_string(r.exit.exit_code);
  return Error{ControllerDown(r) ? ErrorKind::kUnavailable : ErrorKind::kRefused, what + ": " + why};
}

}  // namespace

const char* JobScriptText() { return "#!/bin/sh\n# pipeline: runs its arguments as the job\nexec \"$@\"\n"; }

Result<std::string> WriteJobScript(const std::string& dir) {
  std::string path = dir + "/pipeline-job.sh";
  auto existing = ReadFile(path);
  if (!existing.ok() || *existing != JobScriptText()) {
    PL_RETURN_IF_ERROR(WriteFileAtomic(path, JobScriptText()));
  }
  if (chmod(path.c_str(), 0755) != 0) return Error{ErrorKind::kIO, "chmod " + path};
  return path;
}

bool ValidName(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<std::vector<std::string>> SbatchArgv(const SubmitRequest& r) {
  auto bad = [](const std::string& what, const std::string& v) {
    return Error{ErrorKind::kInvalidArgument, "slurm: " + what + " '" + v + "' may hold only letters, digits and ._-"};
  };
  if (!ValidName(r.job_name)) return bad("job name", r.job_name);
  if (!r.partition.empty() && !ValidName(r.partition)) return bad("partition", r.partition);
  if (!r.account.empty() && !ValidName(r.account)) return bad("account", r.account);
  if (r.script.empty() || r.args.empty())
    return Error{ErrorKind::kInvalidArgument, "slurm: a job needs its script and the argv it runs"};
  std::vector<std::string> a = {"sbatch", "--parsable", "--job-name=" + r.job_name};
  if (!r.partition.empty()) a.push_back("--partition=" + r.partition);
  if (!r.account.empty()) a.push_back("--account=" + r.account);
  if (r.time_limit_minutes > 0) a.push_back("--time=" + std::to_string(r.time_limit_minutes));
  if (r.cpus > 0) a.push_back("--cpus-per-task=" + std::to_string(r.cpus));
  if (r.mem_mb > 0) a.push_back("--mem=" + std::to_string(r.mem_mb) + "M");
  if (!r.chdir.empty()) a.push_back("--chdir=" + r.chdir);
  if (!r.output.empty()) a.push_back("--output=" + r.output);
  if (!r.comment.empty()) a.push_back("--comment=" + r.comment);
  if (r.hold) a.push_back("--hold");
  a.push_back(r.script);
  a.insert(a.end(), r.args.begin(), r.args.end());
  return a;
}

Client::Client(ProcessRunner& runner, ClientOptions options) : runner_(runner), options_(std::move(options)) {}

Result<CommandResult> Client::Call(std::vector<std::string> argv) {
  Command c;
  c.argv = std::move(argv);
  c.timeout_ms = options_.command_timeout_ms;
  if (!options_.slurm_conf.empty()) c.env_set["SLURM_CONF"] = options_.slurm_conf;
  auto r = runner_.Run(c);
  if (!r.ok() && r.kind() == ErrorKind::kNotFound)
    return Error{ErrorKind::kUnavailable, "slurm: '" + c.argv[0] + "' not found on PATH (install slurm-client)"};
  return r;
}

Status Client::Ping() {
  PL_ASSIGN_OR_RETURN(CommandResult r, Call({"scontrol", "ping"}));
  if (!r.ok() || r.out.find("DOWN") != std::string::npos)
    return Error{ErrorKind::kUnavailable, "slurm: controller not answering: " + FirstLine(r.out + r.err)};
  return Status::Ok();
}

Result<std::string> Client::Submit(const SubmitRequest& req) {
  PL_ASSIGN_OR_RETURN(std::vector<std::string> argv, SbatchArgv(req));
  PL_ASSIGN_OR_RETURN(CommandResult r, Call(std::move(argv)));
  if (!r.ok()) return Failed("sbatch", r);
  return ParseSbatchParsable(r.out);
}

Result<std::optional<JobInfo>> Client::Query(const std::string& id) {
  if (!IsJobId(id)) return Error{ErrorKind::kInvalidArgument, "slurm: '" + id + "' is not a job id"};
  PL_ASSIGN_OR_RETURN(CommandResult r, Call({"scontrol", "show", "job", "-o", id}));
  if (r.ok()) {
    PL_ASSIGN_OR_RETURN(JobInfo info, ParseScontrolJob(FirstLine(r.out)));
    return std::optional<JobInfo>(std::move(info));
  }
  if (r.err.find("Invalid job id") == std::string::npos) return Failed("scontrol show job " + id, r);
  return FromAccounting(id);
}

Result<std::optional<JobInfo>> Client::FromAccounting(const std::string& id) {
  PL_ASSIGN_OR_RETURN(CommandResult r,
                      Call({"sacct", "-c", "-n", "-P", "-j", id, "-o", "JobID,JobName,State,ExitCode"}));
  if (!r.ok()) return Failed("sacct -c -j " + id, r);
  std::optional<JobInfo> found;
  for (const std::string& line : Split(r.out, '\n')) {
    if (Trim(line).empty()) continue;
    PL_ASSIGN_OR_RETURN(JobInfo info, ParseSacctLine(line));
    if (info.id == id) found = std::move(info);  // the last record wins (a requeued job has several)
  }
  return found;
}

Result<std::map<std::string, JobInfo>> Client::QueueStates(const std::vector<std::string>& ids) {
  std::map<std::string, JobInfo> out;
  if (ids.empty()) return out;
  std::string list;
  for (const std::string& id : ids) {
    if (!IsJobId(id)) return Error{ErrorKind::kInvalidArgument, "slurm: '" + id + "' is not a job id"};
    list += (list.empty() ? "" : ",") + id;
  }
  PL_ASSIGN_OR_RETURN(CommandResult q, Call({"squeue", "-h", "-t", "all", "-j", list, "-o", "%i|%T|%r|%j"}));
  if (!q.ok()) return Failed("squeue -j " + list, q);
  for (const std::string& line : Split(q.out, '\n')) {
    if (Trim(line).empty()) continue;
    PL_ASSIGN_OR_RETURN(JobInfo info, ParseSqueueLine(line));
    out[info.id] = std::move(info);
  }
  return out;
}

Result<std::vector<JobInfo>> Client::FindByName(const std::string& name) {
  if (!ValidName(name)) return Error{ErrorKind::kInvalidArgument, "slurm: bad job name '" + name + "'"};
  std::vector<JobInfo> jobs;
  PL_ASSIGN_OR_RETURN(CommandResult q, Call({"squeue", "-h", "-t", "all", "-n", name, "-o", "%i|%T|%r|%j"}));
  if (!q.ok()) return Failed("squeue -n " + name, q);
  for (const std::string& line : Split(q.out, '\n')) {
    if (Trim(line).empty()) continue;
    PL_ASSIGN_OR_RETURN(JobInfo info, ParseSqueueLine(line));
    if (info.name == name) jobs.push_back(std::move(info));
  }
  PL_ASSIGN_OR_RETURN(CommandResult a,
                      Call({"sacct", "-c", "-n", "-P", "--name=" + name, "-o", "JobID,JobName,State,ExitCode"}));
  if (!a.ok()) return Failed("sacct -c --name " + name, a);
  for (const std::string& line : Split(a.out, '\n')) {
    if (Trim(line).empty()) continue;
    PL_ASSIGN_OR_RETURN(JobInfo info, ParseSacctLine(line));
    // sacct -c does not filter the jobcomp file by --name: we do.
    if (info.name != name) continue;
    bool known = false;
    for (const auto& j : jobs) known = known || j.id == info.id;
    if (!known) jobs.push_back(std::move(info));
  }
  return jobs;
}

Status Client::Cancel(const std::string& id) {
  if (!IsJobId(id)) return Error{ErrorKind::kInvalidArgument, "slurm: '" + id + "' is not a job id"};
  PL_ASSIGN_OR_RETURN(CommandResult r, Call({"scancel", id}));
  if (!r.ok()) return Failed("scancel " + id, r);
  return Status::Ok();
}

Status Client::Release(const std::string& id) {
  if (!IsJobId(id)) return Error{ErrorKind::kInvalidArgument, "slurm: '" + id + "' is not a job id"};
  PL_ASSIGN_OR_RETURN(CommandResult r, Call({"scontrol", "release", id}));
  if (!r.ok()) return Failed("scontrol release " + id, r);
  return Status::Ok();
}

Result<PartitionInfo> ParsePartitionLine(std::string_view line) {
  PartitionInfo p;
  for (const std::string& field : SplitWhitespace(line)) {
    size_t eq = field.find('=');
    if (eq == std::string::npos) continue;
    std::string key = field.substr(0, eq), value = field.substr(eq + 1);
    if (key == "PartitionName") p.name = value;
    else if (key == "Default") p.is_default = value == "YES";
    else if (key == "State") p.state = value;
  }
  if (p.name.empty()) return Error{ErrorKind::kInvalidArgument, "slurm: no PartitionName in: " + std::string(line)};
  return p;
}

Result<std::vector<PartitionInfo>> Client::Partitions() {
  PL_ASSIGN_OR_RETURN(CommandResult r, Call({"scontrol", "show", "partition", "-o"}));
  if (!r.ok()) return Failed("scontrol show partition", r);
  std::vector<PartitionInfo> out;
  for (const std::string& line : Split(r.out, '\n')) {
    if (Trim(line).empty()) continue;
    PL_ASSIGN_OR_RETURN(PartitionInfo p, ParsePartitionLine(line));
    out.push_back(std::move(p));
  }
  return out;
}

std::optional<BatchScheduling> ParseBatchScheduling(std::string_view show_config) {
  for (const std::string& line : Split(std::string(show_config), '\n')) {
    std::string t = Trim(line);
    if (!StartsWith(t, "SchedulerParameters")) continue;
    size_t eq = t.find('=');
    if (eq == std::string::npos) continue;
    std::string value = Trim(t.substr(eq + 1));
    BatchScheduling b;
    if (value == "(null)") return b;
    for (const std::string& item : Split(value, ',')) {
      std::string p = Trim(item);
      if (p == "defer") b.defer = true;
      if (StartsWith(p, "batch_sched_delay="))
        if (auto n = ParseInt64(p.substr(18)); n && *n >= 0 && *n <= 1'000'000) b.batch_sched_delay_s = static_cast<int>(*n);
    }
    return b;
  }
  return std::nullopt;
}

Result<BatchScheduling> Client::BatchSchedulingSettings() {
  PL_ASSIGN_OR_RETURN(CommandResult r, Call({"scontrol", "show", "config"}));
  if (!r.ok()) return Failed("scontrol show config", r);
  auto b = ParseBatchScheduling(r.out);
  if (!b) return Error{ErrorKind::kIO, "scontrol show config printed no SchedulerParameters line"};
  return *b;
}

}  // namespace pipeline::slurm
