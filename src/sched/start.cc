// Starting runs: choosing dev candidates for free slots, recording a run in
// the same transaction as the claim and the budget hold, then (after the
// commit) preparing its worktree and prompt and handing it to the launcher.
// A failure after the commit undoes the claim in one transaction, so a task
// is never left in-progress with no run (docs/protocol.md, "Run bookkeeping
// is written before the call").
#include "agent/run_store.h"
#include "git/paths.h"
#include "sched/prompt.h"
#include "sched/scheduler.h"
#include "tasks/domain_pause.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline {

Status Scheduler::StartCandidates(StepResult* r) {
  // Tasks without a namespace are never scheduled: say so once per task.
  PL_ASSIGN_OR_RETURN(auto no_ns, ReadyWithoutNamespace(db_, 50));
  for (const auto& id : no_ns) {
    if (!reported_no_ns_.insert(id).second) continue;
    Emit("skip", id, std::nullopt, "no namespace: the task has no domain and is not scheduled");
    if (!dry_) PL_RETURN_IF_ERROR(AddEvent(db_, clock_.Now(), id, std::nullopt, "skip", "no namespace"));
  }
  int slots = options_.max_active - dev_total_;
  // Simulated counts under dry-run, so the plan respects the limits.
  std::map<std::string, int> planned;
  std::set<std::string> excluded_domains = budget_refused_;
  // Domains a person paused (the dashboard's pause): nothing new starts there.
  PL_ASSIGN_OR_RETURN(auto paused, PausedDomains(db_));
  excluded_domains.insert(paused.begin(), paused.end());
  auto domain_full = [&](const std::string& d) {
    return DevActive(d) + planned[d] >= options_.MaxActiveFor(d);
  };
  CandidateQuery q;
  q.now = clock_.Now();
  q.parent = options_.parent;
  q.task_id = options_.task_id;
  q.limit = 32;
  auto exclude = [&]() {
    q.excluded_namespaces.clear();
    for (const auto& [ns, d] : domain_of_ns_)
      if (excluded_domains.count(d) || domain_full(d)) q.excluded_namespaces.push_back(ns);
  };
  exclude();
  if (slots <= 0) {
    q.limit = 1;
    PL_ASSIGN_OR_RETURN(auto waiting, CandidateBatch(db_, q));
    r->more = r->more || !waiting.empty();
    return Status::Ok();
  }
  while (slots > 0) {
    PL_ASSIGN_OR_RETURN(auto batch, CandidateBatch(db_, q));
    for (const auto& c : batch) {
      q.after = std::make_pair(c.priority, c.seq);
      auto it = domain_of_ns_.find(c.ns);
      if (it == domain_of_ns_.end()) it = domain_of_ns_.emplace(c.ns, DomainFor(options_, c.ns)).first;
      const std::string domain = it->second;
      if (excluded_domains.count(domain)) continue;
      if (domain_full(domain)) {
        Emit("skip", c.id, std::nullopt, "domain busy: " + domain);
        continue;
      }
      if (slots <= 0) {
        r->more = true;
        break;
      }
      if (env_.memory_gate && !dry_) {
        // Agents take hundreds of MB each and their builds more: a start
        // that would eat the machine's reserve waits for memory instead.
        Status mem = env_.memory_gate();
        if (!mem.ok()) {
          Emit("skip", c.id, std::nullopt, "memory: " + mem.message());
          r->more = true;
          NoteWake(clock_.Now() + kMemoryRecheck);
          return Status::Ok();
        }
      }
      std::string skip;
      PL_ASSIGN_OR_RETURN(bool started, StartDev(c, domain, &skip));
      if (started) {
        --slots;
        ++r->started;
        if (dry_) ++planned[domain];
        continue;
      }
      Emit("skip", c.id, std::nullopt, skip);
      if (StartsWith(skip, "no budget")) {
        excluded_domains.insert(domain);
        if (!dry_) budget_refused_.insert(domain);
      }
    }
    if (static_cast<int>(batch.size()) < q.limit) break;
    exclude();
  }
  return Status::Ok();
}

Result<bool> Scheduler::StartDev(const Candidate& c, const std::string& domain, std::string* skip) {
  std::string workspace = WorkspaceFor(c.id);
  if (workspace.empty()) {
    *skip = "task id cannot name a worktree: " + c.id;
    return false;
  }
  if (dry_) {
    PL_ASSIGN_OR_RETURN(DomainReport rep, ledger_.Check(domain));
    if (rep.overrun_blocked || rep.remaining_cents < options_.reserve_cents) {
      *skip = "no budget in " + domain + " (remaining " + std::to_string(rep.remaining_cents) + "c, need " +
              std::to_string(options_.reserve_cents) + "c)";
      return false;
    }
    Emit("would-start", c.id, std::nullopt, "domain=" + domain + " namespace=" + c.ns);
    return true;
  }
  PL_ASSIGN_OR_RETURN(Task task, tasks_.Get(c.id));
  std::string run_id = NewRunId(domain, c.id);
  std::string prompt_path = JoinPath(paths_.prompts_dir(), run_id + ".md");
  Status tx = db_.Write([&]() -> Status {
    Status claimed = tasks_.Claim(c.id, TaskStatus::kOpen, TaskStatus::kInProgress);
    if (!claimed.ok()) {
      *skip = "not claimable: " + claimed.message();
      return claimed;
    }
    Status held = ledger_.Reserve(domain, run_id, c.id, options_.reserve_cents);
    if (!held.ok()) {
      *skip = held.kind() == ErrorKind::kRefused ? "no budget in " + domain + ": " + held.message()
                                                 : "budget hold failed: " + held.message();
      return held;
    }
    RunSpec spec;
    spec.run_id = run_id;
    spec.task_id = c.id;
    spec.domain = domain;
    spec.phase = "dev";
    spec.patchset = task.patchset;
    spec.profile = options_.profile;
    spec.prompt_path = prompt_path;
    spec.workspace = workspace;
    spec.timeout_s = options_.timeout_s;
    spec.max_cost_cents = options_.MaxCostCents();
    spec.max_iter = options_.max_iter;
    spec.model = options_.model;
    PL_RETURN_IF_ERROR(InsertRun(db_, spec, clock_));
    return AddEvent(db_, clock_.Now(), c.id, run_id, "start", "domain=" + domain);
  });
  if (!tx.ok()) {
    if (skip->empty()) return tx.error();  // the store failed
    return false;
  }
  Track(run_id, c.id, domain, "dev");
  // After the commit: worktree, prompt, launch. Any failure undoes the claim.
  std::string why;
  if (!options_.shared_workspace) {
    auto wt = repo_ ? repo_->EnsureWorktree(c.id, base_) : Result<std::string>(Unavailable("no git"));
    if (!wt.ok()) why = "worktree: " + wt.message();
  }
  if (why.empty()) {
    PromptInput in;
    in.toolchain = options_.toolchain;
    in.workspace = workspace;
    in.run_id = run_id;
    in.task_id = c.id;
    in.provider = options_.provider;
    in.model = options_.model;
    in.max_iter = options_.max_iter;
    in.max_cost_cents = options_.MaxCostCents();
    in.title = task.title;
    in.description = task.description;
    in.domain = domain;
    in.ns = task.ns.value_or("");
    in.patchset = task.patchset;
    for (const auto& cm : task.comments) in.comments.push_back({cm.author, cm.text});
    in.feedback = task.feedback;
    Status checked = CheckFrontmatterValue("workspace", workspace);
    Status written = checked.ok() ? MakeDirs(paths_.prompts_dir()) : checked;
    // No fsync: the prompt only has to survive the scheduler's own crash (the
    // page cache does); after a machine crash the run is recovered anyway.
    if (written.ok()) written = WriteFileAtomic(prompt_path, RenderDevPrompt(in), FileSync::kNoFsync);
    if (!written.ok()) why = "prompt: " + written.message();
  }
  if (!why.empty()) {
    (void)FailStart(run_id, c.id, "dev", why);
    return true;  // the slot was used (and given back); the failure is recorded
  }
  LaunchRecorded(run_id, c.id, domain, "dev");
  return true;
}

void Scheduler::LaunchRecorded(const std::string& run_id, const std::string& task_id, const std::string& domain,
                               const std::string& phase) {
  Track(run_id, task_id, domain, phase);
  Status launched = launcher_->Launch(LaunchRequest{run_id, task_id, domain, phase});
  if (!launched.ok()) {
    (void)FailStart(run_id, task_id, phase, launched.message());
    return;
  }
  Emit("started", task_id, run_id, phase + " domain=" + domain);
  if (phase == "dev")
    (void)Comment(task_id, "Pipeline scheduler: started run=" + run_id + " domain=" + domain);
}

Status Scheduler::FailStart(const std::string& run_id, const std::string& task_id, const std::string& phase,
                            const std::string& why) {
  Emit("error", task_id, run_id, "could not start " + phase + " run: " + why);
  Status s = db_.Write([&]() -> Status {
    Micros now = clock_.Now();
    Status failed = FailRun(db_, run_id, why, now);
    if (!failed.ok() && failed.kind() == ErrorKind::kIO) return failed;
    PL_ASSIGN_OR_RETURN(bool mine, MarkHarvested(db_, run_id, now));
    if (!mine) return Status::Ok();
    Status rel = ledger_.Release(run_id);
    if (!rel.ok() && rel.kind() != ErrorKind::kNotFound) return rel;
    PL_RETURN_IF_ERROR(AddEvent(db_, now, task_id, run_id, "failure", "could not start: " + why));
    if (phase == "integrate") {
      integrate_not_before_ = now + options_.integrate_retry_s * 1'000'000;
      NoteWake(integrate_not_before_);
      return Comment(task_id, "Pipeline scheduler: could not start integration run " + run_id + ": " + why);
    }
    if (phase == "verify") {
      PL_ASSIGN_OR_RETURN(bool moved, MoveTaskForRetry(db_, task_id, TaskStatus::kInProgress, TaskStatus::kNeedsHelp, 0, 0, now));
      if (moved) PL_RETURN_IF_ERROR(Comment(task_id, "Pipeline: verification could not start: " + why + "; needs help"));
      return Status::Ok();
    }
    PL_ASSIGN_OR_RETURN(auto task, TaskCountersOf(db_, task_id));
    int64_t retries = task ? task->retries : 0;
    PL_ASSIGN_OR_RETURN(double cost, TaskCostCents(db_, task_id));
    Decision d = DecideFailure(options_, retries, cost, now, "could not start run " + run_id + ": " + why);
    return ApplyFailure(task_id, d, run_id);
  });
  Untrack(run_id);
  return s;
}

Result<std::optional<std::string>> Scheduler::RecordVerifyRun(const std::string& task_id, const std::string& domain,
                                                              int64_t patchset) {
  // The same check, substitutions and timeout the merge-queue worker uses
  // (config/verify.h), so {namespace} means the task's namespace here too.
  PL_ASSIGN_OR_RETURN(std::optional<std::string> task_ns, TaskNamespaceOf(db_, task_id));
  const std::string ns = task_ns.value_or("");
  const std::optional<VerifyCommand> cmd = options_.verify.For(domain, ns);
  if (!cmd) return std::optional<std::string>();
  RunSpec spec;
  spec.run_id = NewRunId("verify", task_id);
  spec.task_id = task_id;
  spec.domain = domain;
  spec.phase = "verify";
  spec.patchset = patchset;
  spec.workspace = VerifyWorkspaceFor(task_id);
  spec.argv = cmd->argv;
  spec.timeout_s = cmd->timeout_s;
  spec.env = {{"PIPELINE_NAMESPACE", ns}, {"PIPELINE_DOMAIN", domain}};
  PL_RETURN_IF_ERROR(InsertRun(db_, spec, clock_));
  PL_RETURN_IF_ERROR(AddEvent(db_, clock_.Now(), task_id, spec.run_id, "verify", "verify run recorded"));
  return std::optional<std::string>(spec.run_id);
}

Result<std::string> Scheduler::RecordIntegrateRun(const std::vector<std::string>& tasks, int64_t patchset,
                                                  bool recheck_base) {
  const std::string& task_id = tasks.front();
  RunSpec spec;
  spec.run_id = NewRunId("integrate", task_id);
  spec.task_id = task_id;
  spec.phase = "integrate";
  spec.patchset = patchset;
  spec.workspace = paths_.repo();
  if (options_.batch_max <= 1) {
    // The serial queue, exactly as before batches: one task per run.
    spec.argv = {env_.self_exe, "integrate-task", task_id, "--base", base_, "--root", paths_.root};
  } else {
    spec.argv = {env_.self_exe, "integrate-batch"};
    spec.argv.insert(spec.argv.end(), tasks.begin(), tasks.end());
    spec.argv.insert(spec.argv.end(), {"--base", base_, "--root", paths_.root, "--parallel",
                                       std::to_string(options_.integrate_parallel)});
    if (!integrate_green_base_.empty()) spec.argv.insert(spec.argv.end(), {"--green-base", integrate_green_base_});
    if (recheck_base) spec.argv.push_back("--recheck-base");
  }
  PL_RETURN_IF_ERROR(InsertRun(db_, spec, clock_));
  std::string together;
  for (const std::string& t : tasks) together += (together.empty() ? "" : " ") + t;
  for (const std::string& t : tasks)
    PL_RETURN_IF_ERROR(AddEvent(db_, clock_.Now(), t, spec.run_id, "integrate",
                                tasks.size() == 1 ? std::string("integration run recorded")
                                                  : "integration run recorded: a batch of " +
                                                        std::to_string(tasks.size()) + " (" + together + ")"));
  return spec.run_id;
}

}  // namespace pipeline
