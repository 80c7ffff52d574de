#include "slurm/doctor.h"

#include <unistd.h>

#include <algorithm>
#include <set>

#include "slurm/executor_config.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline::slurm {

namespace {

constexpr const char* kCheck = "cluster";

CheckResult Line(CheckLevel level, std::string message) { return CheckResult{kCheck, level, std::move(message)}; }

// "debug (default), strict" for a problem line.
std::string Names(const std::vector<PartitionInfo>& parts) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : ", ") + p.name + (p.is_default ? " (default)" : "");
  return s.empty() ? "none" : s;
}

// Checks one configured partition (empty: the cluster's default); returns
// false when no job could be submitted to it.
bool CheckPartition(const std::vector<PartitionInfo>& parts, const char* key, const std::string& name,
                    std::vector<CheckResult>* out) {
  const PartitionInfo* found = nullptr;
  for (const auto& p : parts)
    if (name.empty() ? p.is_default : p.name == name) found = &p;
  if (!found) {
    out->push_back(Line(CheckLevel::kProblem,
                        name.empty() ? std::string(key) + " is not set and the cluster has no default partition; set it (partitions: " + Names(parts) + ")"
                                     : std::string(key) + " \"" + name + "\" is not a partition of this cluster; use one of: " + Names(parts)));
    return false;
  }
  std::string what = "partition " + found->name + (name.empty() ? " (the cluster's default)" : "") + " for " + key;
  if (found->state != "UP") {
    out->push_back(Line(CheckLevel::kWarning, what + " is " + found->state + ": jobs wait until an administrator sets it UP"));
    return true;
  }
  out->push_back(Line(CheckLevel::kOk, what + " is UP"));
  return true;
}

// Every run is one batch job, and the controller starts batch jobs only
// from its background pass: at best within a second of their submission,
// at worst batch_sched_delay seconds later. Worth a line when that is what
// every run of a short task waits for. Said nothing about when the
// controller's settings cannot be read: the other checks decide.
void CheckBatchScheduling(Client& client, std::vector<CheckResult>* out) {
  auto b = client.BatchSchedulingSettings();
  if (!b.ok()) return;
  if (b->defer || b->batch_sched_delay_s > 1) {
    std::string why = b->defer ? "defer" : "batch_sched_delay=" + std::to_string(b->batch_sched_delay_s);
    out->push_back(Line(CheckLevel::kWarning,
                        "the controller may delay starting a new batch job by up to " +
                            std::to_string(std::max(1, b->batch_sched_delay_s)) + " s (SchedulerParameters: " + why +
                            "), and every run is one: short runs will wait longer than they work; batch_sched_delay=0 "
                            "without defer starts jobs within about a second"));
    return;
  }
  out->push_back(Line(CheckLevel::kOk, "the controller starts new batch jobs within about a second (batch_sched_delay=" +
                                           std::to_string(b->batch_sched_delay_s) + ")"));
}

}  // namespace

std::vector<CheckResult> CheckCluster(Client& client, const ExecutorOptions& o, const std::string& slurm_conf,
                                      Clock& clock, const ClusterProbe& probe) {
  std::vector<CheckResult> out;
  std::string conf = slurm_conf.empty() ? std::string("Slurm's default slurm.conf") : "SLURM_CONF=" + slurm_conf;
  if (Status ping = client.Ping(); !ping.ok()) {
    out.push_back(Line(CheckLevel::kProblem, "the Slurm controller does not answer `scontrol ping` (" + conf + "): " +
                                                 ping.message() + "; start slurmctld or set executor.slurm.slurm_conf"));
    return out;
  }
  out.push_back(Line(CheckLevel::kOk, "the Slurm controller answers `scontrol ping` (" + conf + ")"));

  auto parts = client.Partitions();
  if (!parts.ok()) {
    out.push_back(Line(CheckLevel::kProblem, "cannot list the partitions: " + parts.message()));
    return out;
  }
  bool dev_ok = CheckPartition(*parts, "executor.slurm.partition", o.partition, &out);
  if (!o.check_partition.empty() && o.check_partition != o.partition)
    CheckPartition(*parts, "executor.slurm.check_partition", o.check_partition, &out);
  if (!dev_ok) return out;

  // The shared directory, as a job sees it: a node must be able to write its
  // run's result there.
  std::string dir = o.shared_dir + "/doctor";
  if (Status made = MakeDirs(dir); !made.ok()) {
    out.push_back(Line(CheckLevel::kProblem, "cannot create " + dir + " here: " + made.message()));
    return out;
  }
  auto script = WriteJobScript(o.shared_dir);
  if (!script.ok()) {
    out.push_back(Line(CheckLevel::kProblem, "cannot write the job script in " + o.shared_dir + ": " + script.message()));
    return out;
  }
  std::string stem = dir + "/probe-" + std::to_string(getpid()) + "-" + std::to_string(clock.Now());
  SubmitRequest s;
  s.job_name = "pl-doctor";
  s.partition = o.partition;
  s.account = o.account;
  s.time_limit_minutes = 1;
  s.chdir = dir;
  s.output = stem + ".out";
  s.script = *script;
  s.args = {"touch", stem + ".written"};
  auto id = client.Submit(s);
  if (!id.ok()) {
    out.push_back(Line(CheckLevel::kProblem, "sbatch refused a probe job: " + id.message()));
    return out;
  }
  auto sleep = probe.sleep ? probe.sleep : [](Micros us) { usleep(static_cast<useconds_t>(us)); };
  Micros start = clock.MonotonicNow();
  std::string last = "not yet known to the controller";
  while (true) {
    if (PathExists(stem + ".written")) {
      out.push_back(Line(CheckLevel::kOk, "a job (" + *id + ") wrote in the shared directory " + o.shared_dir));
      break;
    }
    auto info = client.Query(*id);
    if (info.ok() && *info) {
      const JobInfo& j = **info;
      last = std::string(JobStateName(j.state)) + (j.reason.empty() || j.reason == "None" ? "" : " (" + j.reason + ")");
      if (IsFinal(j.state) && !PathExists(stem + ".written")) {
        out.push_back(Line(CheckLevel::kProblem, "a job (" + *id + ") ended " + last + " without writing in " +
                                                     o.shared_dir + ": the nodes must reach it at the same path; see " +
                                                     s.output));
        break;
      }
    }
    if (clock.MonotonicNow() - start >= probe.wait) {
      (void)client.Cancel(*id);
      out.push_back(Line(CheckLevel::kWarning, "the probe job " + *id + " was still " + last + " after " +
                                                   std::to_string(probe.wait / 1'000'000) +
                                                   " s; cancelled it: could not confirm that jobs can write in " + o.shared_dir));
      break;
    }
    sleep(probe.poll_every);
  }
  (void)RemoveAll(stem + ".written");
  (void)RemoveAll(stem + ".out");
  CheckBatchScheduling(client, &out);
  return out;
}

std::vector<CheckResult> ClusterDoctorChecks(const Config& config, const RootPaths& paths, const std::string& self_exe) {
  auto executor = SlurmExecutorFromConfig(config, paths, self_exe);
  if (!executor.ok()) return {CheckResult{"executor", CheckLevel::kProblem, executor.message()}};
  if (!*executor) return {};
  Client client(RealProcessRunner(), ClientOptions{.slurm_conf = (*executor)->slurm_conf, .command_timeout_ms = 20'000});
  return CheckCluster(client, (*executor)->options, (*executor)->slurm_conf, SystemClock());
}

}  // namespace pipeline::slurm
