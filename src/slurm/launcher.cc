#include "slurm/launcher.h"

#include <algorithm>
#include <set>

#include "agent/run_store.h"
#include "sched/sched_sql.h"
#include "slurm/node_job.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline::slurm {

std::string JobNameForRun(const std::string& run_id) {
  std::string name = "pl-";
  for (char c : run_id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    name.push_back(ok ? c : '_');
  }
  if (name.size() > 128) name.resize(128);
  return name;
}

Status CheckNoRunsLeftOnACluster(Db& db, Clock& clock, bool dry_run) {
  PL_ASSIGN_OR_RETURN(std::vector<ClusterRunRef> runs, ActiveClusterRuns(db));
  std::vector<std::string> left, given_up;
  for (const ClusterRunRef& r : runs)
    if (r.kill_requested) given_up.push_back(r.run_id);
    else left.push_back(r.run_id + (r.job.empty() ? "" : " job " + r.job));
  if (!given_up.empty() && !dry_run) {
    PL_RETURN_IF_ERROR(db.Write([&]() -> Status {
      for (const std::string& run_id : given_up) {
        RunOutcome o;
        o.status = RunStatus::kKilled;
        o.ended_at = clock.Now();
        o.error = "given up while out on a cluster";
        Status finished = FinishRun(db, run_id, o);
        if (!finished.ok() && finished.kind() != ErrorKind::kRefused) return finished;  // refused: it ended meanwhile
      }
      return Status::Ok();
    }));
  }
  if (left.empty()) return Status::Ok();
  std::string some = left.front() + (left.size() > 1 ? " and " + std::to_string(left.size() - 1) + " more" : "");
  return Error{ErrorKind::kRefused,
               std::to_string(left.size()) + (left.size() == 1 ? " run is" : " runs are") +
                   " still out on a Slurm cluster (" + some +
                   "): set [executor] kind = \"slurm\" until they end, or cancel each job (scancel JOB) "
                   "and give its run up with 'pipeline agent kill RUN'"};
}

Launcher::Launcher(Db& db, RootPaths paths, Clock& clock, Client& client, ExecutorOptions options)
    : db_(db),
      paths_(std::move(paths)),
      clock_(clock),
      client_(client),
      options_(std::move(options)),
      local_(db_, paths_, clock_, options_.self_exe) {}

JobPlacement PlaceJob(const ExecutorOptions& o, const std::string& phase, const std::string& domain,
                      const std::string& profile) {
  const JobSettings* by_profile = nullptr;
  const JobSettings* by_domain = nullptr;
  if (phase == "dev") {
    std::string name = profile.empty() ? o.default_profile : profile;
    if (auto it = o.profiles.find(name); it != o.profiles.end()) by_profile = &it->second;
  }
  if (auto it = o.domains.find(domain); it != o.domains.end()) by_domain = &it->second;
  // The first section that names the setting, else the executor's own.
  auto pick = [&](auto field, auto fallback) {
    if (by_profile && (by_profile->*field)) return *(by_profile->*field);
    if (by_domain && (by_domain->*field)) return *(by_domain->*field);
    return fallback;
  };
  JobPlacement p;
  p.partition = pick(&JobSettings::partition, o.partition);
  if (phase != "dev") {
    // Checks go to the check partition wherever it is named, then where dev runs go.
    if (by_domain && by_domain->check_partition) p.partition = *by_domain->check_partition;
    else if (!o.check_partition.empty()) p.partition = o.check_partition;
  }
  p.account = pick(&JobSettings::account, o.account);
  p.time_limit_minutes = pick(&JobSettings::time_limit_minutes, o.time_limit_minutes);
  p.cpus = pick(&JobSettings::cpus, o.cpus);
  p.mem_mb = pick(&JobSettings::mem_mb, o.mem_mb);
  return p;
}

std::string Launcher::RunDirFor(const std::string& run_id) const { return options_.shared_dir + "/runs/" + run_id; }

Status Launcher::Launch(const LaunchRequest& req) {
  if (req.phase == "integrate") {
    local_runs_.insert(req.run_id);
    return local_.Launch(req);
  }
  PL_RETURN_IF_ERROR(ValidateRunId(req.run_id));
  std::string run_dir = RunDirFor(req.run_id);
  PL_RETURN_IF_ERROR(MakeDirs(run_dir));
  PL_ASSIGN_OR_RETURN(RunRecord row, GetRun(db_, req.run_id));
  PL_RETURN_IF_ERROR(WriteJob(db_, paths_, row, run_dir));
  PL_ASSIGN_OR_RETURN(std::string script, WriteJobScript(options_.shared_dir));
  if (!store_template_written_) {
    // Nodes copy it instead of creating their private store; without it they create one.
    store_template_written_ = WriteStoreTemplate(options_.shared_dir).ok();
  }
  SubmitRequest s;
  s.job_name = JobNameForRun(req.run_id);
  JobPlacement place = PlaceJob(options_, req.phase, req.domain, req.phase == "dev" ? row.profile : "");
  s.partition = place.partition;
  s.account = place.account;
  s.time_limit_minutes = place.time_limit_minutes;
  s.cpus = place.cpus;
  s.mem_mb = place.mem_mb;
  s.chdir = run_dir;
  s.output = run_dir + "/job.out";
  s.script = script;
  s.args = {options_.self_exe, "agent", "__job", run_dir};
  // Ours from here: while sbatch is out (seconds on a busy controller) no
  // sweep for never-started runs, here or in another process, may fail it.
  PL_RETURN_IF_ERROR(db_.Write([&] { return MarkRunForCluster(db_, req.run_id, "slurm"); }));
  // Watched before the job can exist, so its result cannot slip past.
  results_.Add(req.run_id, run_dir);
  jobs_[req.run_id] = Job{};
  submitter_.Submit(req.run_id, std::move(s));
  return Status::Ok();
}

Status Launcher::TakeSubmissions() {
  for (Submitter::Answer& a : submitter_.Take()) {
    const std::string& run_id = a.run_id;
    if (!a.job_id.ok() && a.job_id.kind() == ErrorKind::kUnavailable) {
      // No answer (the deadline passed, or the controller could not be
      // reached): the job may exist all the same. Its name tells, as after
      // a crash between sbatch and the claim (Reconcile).
      continue;
    }
    if (!a.job_id.ok()) {
      // sbatch refused: the job does not exist, so the run failed to start
      // (counted like any failed start).
      Status failed = db_.Write(
          [&] { return FailRun(db_, run_id, "could not submit the cluster job: " + a.job_id.message(), clock_.Now()); });
      if (!failed.ok() && failed.kind() != ErrorKind::kRefused) return failed;
      continue;
    }
    const std::string& id = *a.job_id;
    Status claimed = db_.Write([&] { return ClaimRunForClusterJob(db_, run_id, id); });
    if (!claimed.ok() && claimed.kind() != ErrorKind::kRefused) return claimed;
    bool cancelled = false;
    if (!claimed.ok() || KillRequested(db_, run_id)) {
      // The row stopped waiting meanwhile, or a kill came while sbatch ran:
      // the job must not run (a claimed one ends as killed once Slurm says so).
      cancelled = client_.Cancel(id).ok();
      if (!claimed.ok()) continue;
    }
    if (auto it = jobs_.find(run_id); it != jobs_.end()) {
      it->second.id = id;
      it->second.cancel_sent = cancelled;
    }
  }
  return Status::Ok();
}

std::vector<pipeline::Launcher::Watch> Launcher::Watches() const {
  std::vector<Watch> out = local_.Watches();
  if (results_.fd() >= 0) out.push_back(Watch{results_.fd(), kResultsWatch});
  if (submitter_.fd() >= 0 && submitter_.AnyPending()) out.push_back(Watch{submitter_.fd(), kSubmissionsWatch});
  return out;
}

void Launcher::OnReadable(const std::string& run_id) {
  // The wait loop steps after any readable watch: the step's Reconcile
  // takes the answers and looks for the results.
  if (run_id == kResultsWatch) (void)results_.Drain();
  else if (run_id == kSubmissionsWatch) submitter_.Acknowledge();
  else local_.OnReadable(run_id);
}

void Launcher::Detach(Micros timeout) {
  // Submissions in flight are answered and claimed before the scheduler
  // leaves, so the next one adopts the jobs by id rather than by name.
  Micros deadline = clock_.MonotonicNow() + timeout;
  while (submitter_.AnyPending()) {
    Micros left = deadline - clock_.MonotonicNow();
    if (left <= 0) break;
    submitter_.WaitForAnswer(left);
    (void)TakeSubmissions();
  }
  local_.Detach(std::max<Micros>(0, deadline - clock_.MonotonicNow()));
}

void Launcher::Adopt(const RunRecord& run) {
  if (run.phase == "integrate") {
    local_runs_.insert(run.run_id);
    return local_.Adopt(run);
  }
  Job job;
  auto claimed = ClusterJobOfRun(db_, run.run_id);
  if (claimed.ok() && *claimed) job.id = **claimed;
  jobs_[run.run_id] = job;
  results_.Add(run.run_id, RunDirFor(run.run_id));
}

void Launcher::Forget(const std::string& run_id) {
  results_.Remove(run_id);
  local_runs_.erase(run_id);
  if (jobs_.erase(run_id) == 0) local_.Forget(run_id);
}

std::optional<Micros> Launcher::PollEvery() const {
  std::optional<Micros> local = local_.PollEvery();
  if (jobs_.empty()) return local;
  return local ? std::min(*local, options_.poll_every) : options_.poll_every;
}

Micros Launcher::QueueEvery() const { return std::max<Micros>(options_.poll_every, kQueueEveryAtLeast); }

std::optional<std::string> Launcher::PendingReason(const std::string& run_id) const {
  auto it = jobs_.find(run_id);
  if (it == jobs_.end() || it->second.pending_reason.empty()) return std::nullopt;
  return "queued on Slurm: " + it->second.pending_reason;
}

Status Launcher::Reconcile(bool watching) {
  // Ours first: a row a crash left unclaimed between sbatch and the claim
  // is claimed here by its job's name before the local reconcile would
  // take it for a run that never started.
  //
  // A run's end shows first as its result file, which every poll looks for
  // (a stat per run). The controller is asked less often (QueueEvery): one
  // squeue call for every claimed job still without a result, not a
  // scontrol per job per poll. squeue loads every job the controller
  // remembers, ~150 ms with a few hundred, so asking it at each 50 ms poll
  // made the poll itself the hand-over's main cost.
  PL_RETURN_IF_ERROR(TakeSubmissions());
  PL_RETURN_IF_ERROR(CancelRequestedKills());
  Micros now = clock_.MonotonicNow();
  const bool ask_queue = now - last_queue_read_ >= QueueEvery();
  std::vector<std::string> ids;
  std::set<std::string> with_result;
  for (const auto& [run_id, job] : jobs_) {
    if (PathExists(RunDirFor(run_id) + "/result.json")) with_result.insert(run_id);
    else if (!job.id.empty()) ids.push_back(job.id);
  }
  Result<std::map<std::string, JobInfo>> queue = std::map<std::string, JobInfo>();
  if (ask_queue && !ids.empty()) {
    queue = client_.QueueStates(ids);
    last_queue_read_ = now;
  }
  for (auto& [run_id, job] : jobs_) {
    const bool has_result = with_result.count(run_id) > 0;
    if (job.id.empty() && submitter_.Pending(run_id)) continue;  // sbatch has not answered yet
    const JobInfo* known = nullptr;
    if (queue.ok() && !job.id.empty())
      if (auto it = queue->find(job.id); it != queue->end()) known = &it->second;
    // Without a result and not asked this time: the next look at the queue
    // tells. Decided before reading the row: most jobs at most polls are
    // simply still out, and reading each one's row at every poll was the
    // largest part of the scheduler's own work.
    if (!job.id.empty() && !has_result && !known && !ask_queue) continue;
    auto row = GetRun(db_, run_id);
    if (!row.ok()) continue;
    if (IsTerminal(row->status)) continue;  // harvested soon; Forget follows
    if (job.id.empty()) {
      // Adopted before its claim: a scheduler died between sbatch and the
      // claim, or before sbatch. The job name says which.
      Result<std::vector<JobInfo>> by_name = client_.FindByName(JobNameForRun(run_id));
      if (!by_name.ok() && by_name.kind() == ErrorKind::kUnavailable) continue;  // the controller is away: ask again
      PL_ASSIGN_OR_RETURN(std::vector<JobInfo> found, std::move(by_name));
      if (found.empty()) {
        // A submission may be in flight: a dead scheduler's sbatch lives on
        // until its own deadline.
        if (clock_.Now() - row->created_at < client_.CommandDeadline() + kClaimGrace) continue;
        PL_RETURN_IF_ERROR(db_.Write([&] { return FailRun(db_, run_id, "never started", clock_.Now()); }));
        continue;
      }
      job.id = found.front().id;
      Status claimed = db_.Write([&] { return ClaimRunForClusterJob(db_, run_id, job.id); });
      if (!claimed.ok() && claimed.kind() != ErrorKind::kRefused) return claimed;
      if (!has_result && !ask_queue) continue;
    }
    PL_RETURN_IF_ERROR(Settle(*row, job, known));
  }
  // Integration runs are the local launcher's. Its full look (runs never
  // claimed, monitors that died) reads every active row: done at the first
  // call (recovery, before any adoption) and while it has runs of its own.
  const bool local_watching = watching && (!local_runs_.empty() || !reconciled_);
  reconciled_ = true;
  return local_.Reconcile(local_watching);
}

Status Launcher::CancelRequestedKills() {
  if (jobs_.empty()) return Status::Ok();
  PL_ASSIGN_OR_RETURN(std::vector<ClusterRunRef> active, ActiveClusterRuns(db_));
  for (const ClusterRunRef& r : active) {
    if (!r.kill_requested) continue;
    auto it = jobs_.find(r.run_id);
    // Not claimed yet: the claim sees the request and cancels (TakeSubmissions).
    if (it == jobs_.end() || it->second.id.empty() || it->second.cancel_sent) continue;
    // A controller away is asked again at the next reconcile.
    if (client_.Cancel(it->second.id).ok()) it->second.cancel_sent = true;
  }
  return Status::Ok();
}

Status Launcher::NotePendingReason(const RunRecord& row, Job& job, std::string reason) {
  if (reason == "None") reason.clear();  // a job just submitted, not yet looked at
  if (reason == job.pending_reason) return Status::Ok();
  Status s = db_.Write(
      [&] { return AddEvent(db_, clock_.Now(), row.task_id, row.run_id, kClusterQueueEvent, reason); });
  if (s.ok()) job.pending_reason = std::move(reason);
  return s;
}

Status Launcher::Settle(const RunRecord& row, Job& job, const JobInfo* known) {
  const std::string& run_id = row.run_id;
  std::string run_dir = RunDirFor(run_id);
  PL_ASSIGN_OR_RETURN(std::optional<JobResult> result, ReadJobResult(run_dir));
  if (result) return Import(run_id, job, *result);
  Result<std::optional<JobInfo>> info =
      known ? Result<std::optional<JobInfo>>(std::optional<JobInfo>(*known)) : client_.Query(job.id);
  if (!info.ok()) {
    // The controller is down or slow: try again at the next poll.
    if (info.kind() == ErrorKind::kUnavailable) return Status::Ok();
    return info.error();
  }
  if (!*info) return Status::Ok();  // not known yet (sbatch just answered)
  const JobInfo& j = **info;
  if (!IsFinal(j.state)) return NotePendingReason(row, job, j.state == JobState::kPending ? j.reason : "");
  // Final, yet the result may have landed between our two looks.
  PL_ASSIGN_OR_RETURN(result, ReadJobResult(run_dir));
  if (result) return Import(run_id, job, *result);
  RunOutcome o;
  o.ended_at = clock_.Now();
  o.exit_code = j.exit_code;
  switch (OutcomeOf(j.state)) {
    case JobOutcome::kTimeout:
      o.status = RunStatus::kTimeout;
      o.error = "the cluster job ran past its time limit";
      break;
    case JobOutcome::kKilled:
      o.status = RunStatus::kKilled;
      o.error = KillRequested(db_, run_id) ? "killed on request" : "the cluster job was cancelled";
      break;
    case JobOutcome::kOutOfMemory:
      o.status = RunStatus::kFailed;
      o.error = "memory limit";
      break;
    case JobOutcome::kInfrastructure:
      o.status = RunStatus::kFailed;
      o.error = std::string(kClusterErrorPrefix) + JobStateName(j.state);
      break;
    default:
      o.status = RunStatus::kFailed;
      o.error = "the cluster job " + std::string(JobStateName(j.state)) + " (exit " +
                std::to_string(j.exit_code) + ") without a result; see " + run_dir + "/job.out";
      break;
  }
  Status s = db_.Write([&] { return FinishRun(db_, run_id, o); });
  return s.ok() || s.kind() == ErrorKind::kRefused ? Status::Ok() : s;
}

Status Launcher::Import(const std::string& run_id, const Job& job, JobResult result) {
  // Slurm ends a job by signalling every process of it at once (scancel, or
  // its time limit): the node's monitor then reports the run killed, or
  // failed when the agent died of it first ("killed by signal 15", or a
  // shell's exit code 143). Slurm knows better why: it was cancelled, or it
  // ran out of time. So a run that did not succeed asks Slurm once.
  const bool signalled = result.outcome.status == RunStatus::kKilled || result.outcome.status == RunStatus::kFailed;
  if (signalled) {
    auto info = client_.Query(job.id);
    // Still COMPLETING (its processes being killed): ask again next poll.
    if (info.ok() && *info && !IsFinal((*info)->state)) return Status::Ok();
    if (info.ok() && *info && (*info)->state == JobState::kCancelled) {
      result.outcome.status = RunStatus::kKilled;
      result.outcome.error = KillRequested(db_, run_id) ? "killed on request" : "the cluster job was cancelled";
    } else if (info.ok() && *info && (*info)->state == JobState::kTimeout) {
      result.outcome.status = RunStatus::kTimeout;
      result.outcome.error = "the cluster job ran past its time limit";
    }
  }
  Status s = ImportJobResult(db_, run_id, result);
  return s.ok() || s.kind() == ErrorKind::kRefused ? Status::Ok() : s;
}

Status Launcher::Kill(const std::string& run_id) {
  if (!jobs_.count(run_id)) {
    auto row = GetRun(db_, run_id);
    if (row.ok() && row->phase == "integrate") return local_.Kill(run_id);
  }
  PL_RETURN_IF_ERROR(db_.Write([&] { return MarkKillRequested(db_, run_id); }));
  auto it = jobs_.find(run_id);
  std::string id;
  if (it != jobs_.end()) id = it->second.id;
  if (id.empty()) {
    PL_ASSIGN_OR_RETURN(auto job, ClusterJobOfRun(db_, run_id));
    if (job) id = *job;
  }
  if (id.empty()) return Status::Ok();  // not claimed yet: the claim sees the request and cancels
  Status cancelled = client_.Cancel(id);
  if (cancelled.ok() && it != jobs_.end()) it->second.cancel_sent = true;
  return cancelled;
}

}  // namespace pipeline::slurm
