#include "sched/waiting.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "agent/run_store.h"
#include "ledger/ledger.h"
#include "sched/merge_queue.h"
#include "tasks/domain_pause.h"
#include "tasks/task_queries.h"
#include "tasks/task_store.h"
#include "util/text.h"

namespace pipeline {

using nlohmann::json;

const char* WaitKindName(WaitKind k) {
  switch (k) {
    case WaitKind::kReady: return "ready";
    case WaitKind::kRunning: return "running";
    case WaitKind::kDependency: return "dependency";
    case WaitKind::kNoNamespace: return "no-namespace";
    case WaitKind::kBackoff: return "backoff";
    case WaitKind::kNoBudget: return "no-budget";
    case WaitKind::kDomainBusy: return "domain-busy";
    case WaitKind::kMaxActive: return "max-active";
    case WaitKind::kPaused: return "paused";
    case WaitKind::kMemory: return "memory";
    case WaitKind::kIntegrationQueued: return "integration-queued";
    case WaitKind::kIntegrationWaiting: return "integration-waiting";
    case WaitKind::kReview: return "review";
    case WaitKind::kNeedsPerson: return "needs-person";
    case WaitKind::kOrphan: return "orphan";
  }
  return "?";
}

json WaitReasonToJson(const WaitReason& w) {
  return {{"task_id", w.task_id}, {"title", w.title},     {"status", w.status},
          {"kind", WaitKindName(w.kind)}, {"reason", w.reason}, {"detail", w.detail}};
}

namespace {

std::string OneLine(const std::string& s, size_t max = 300) { return Trim(SingleLine(TruncateUtf8(s, max))); }

// The newest event of one of these kinds for the task.
struct LastEvent {
  std::string kind, detail;
  Micros at = 0;
};
Result<std::optional<LastEvent>> NewestEvent(Db& db, const std::string& task_id, const char* kinds_sql) {
  PL_ASSIGN_OR_RETURN(Stmt * s, db.CachedText(std::string("SELECT kind, detail, at FROM events WHERE task_id = ? AND kind IN (") +
                                               kinds_sql + ") ORDER BY id DESC LIMIT 1"));
  s->BindAll(task_id);
  PL_ASSIGN_OR_RETURN(bool row, s->Step());
  std::optional<LastEvent> last;
  if (row) last = LastEvent{s->Text(0), s->OptText(1).value_or(""), s->Int(2)};
  s->Reset();
  return last;
}

// needs-help: the question the agent asked (its newest comment since a
// person last answered), and why the scheduler stopped (its newest
// "...; needs help" comment).
void ExplainNeedsHelp(const Task& t, bool answered, WaitReason* w) {
  // Answered (the scheduler's own test, AnsweredNeedsHelp): it reopens the
  // task on its next step.
  if (answered) {
    for (auto it = t.comments.rbegin(); it != t.comments.rend(); ++it)
      if (it->author == "human") {
        w->detail["answered_at"] = FormatIso8601(it->created_at);
        break;
      }
    w->reason = "answered by a person: the scheduler reopens it on its next step (`pipeline run`)";
    return;
  }
  std::optional<std::string> question, why;
  // Newest first, back to the person's last word before them: a person's
  // comments after the question (not yet an answer the scheduler takes)
  // leave it standing, an earlier one answered an older question.
  bool seen_other = false;
  for (auto it = t.comments.rbegin(); it != t.comments.rend(); ++it) {
    if (it->author == "human") {
      if (seen_other) break;
      continue;
    }
    seen_other = true;
    if (!question && StartsWith(it->author, "agent:")) question = it->text;
    if (!why && it->author == "system" && it->text.find("needs help") != std::string::npos) why = it->text;
  }
  if (question) w->detail["question"] = *question;
  if (why) w->detail["why"] = *why;
  if (question) {
    w->reason = "needs a person: asks \"" + OneLine(*question) + "\"";
  } else if (why) {
    std::string text = *why;
    for (const char* prefix : {"Pipeline scheduler: ", "Pipeline: "})
      if (StartsWith(text, prefix)) text = text.substr(std::string(prefix).size());
    w->reason = "needs a person: " + OneLine(text);
  }
  else w->reason = "needs a person (moved to needs-help by hand)";
  w->reason += " (answer with `pipeline task comment " + t.id + " \"...\"`)";
}

// "45s", "12m", "3h", "2d": how long a change has waited, short enough for
// the 80-column status screen.
std::string FormatAge(Micros d) {
  int64_t s = std::max<int64_t>(0, d / 1'000'000);
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  if (s < 172800) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

// The reasons of one ComputeWaiting call, inside its read transaction: what
// the store holds is loaded once, then each kind of task is explained by its
// own method, in the order the header promises.
class Explainer {
 public:
  Explainer(Db& db, const WaitingInput& in, Clock& clock)
      : db_(db), in_(in), o_(in.options), clock_(clock), now_(clock.Now()) {}

  Status Explain(std::vector<WaitReason>* out) {
    out_ = out;
    PL_RETURN_IF_ERROR(LoadTasks());
    PL_RETURN_IF_ERROR(LoadRuns());
    PL_RETURN_IF_ERROR(LoadBudgets());
    NeedsPerson();
    Review();
    PL_RETURN_IF_ERROR(MergeQueue());
    InProgress();
    return Open();
  }

 private:
  // Every work task that is not done, by status.
  Status LoadTasks() {
    TaskStore store(db_, clock_);
    for (TaskStatus s : {TaskStatus::kNeedsHelp, TaskStatus::kReview, TaskStatus::kVerified,
                         TaskStatus::kInProgress, TaskStatus::kOpen}) {
      TaskFilter f;
      f.status = s;
      PL_ASSIGN_OR_RETURN(auto tasks, store.List(f));
      for (const Task& t : tasks) status_of_[t.id] = TaskStatusName(s);
      auto& keep = by_status_[s];
      for (Task& t : tasks)
        if (t.type == "work") keep.push_back(std::move(t));
    }
    PL_ASSIGN_OR_RETURN(auto ready, store.Ready());
    for (const Task& t : ready) ready_ids_.insert(t.id);
    PL_ASSIGN_OR_RETURN(auto answered, AnsweredNeedsHelp(db_));
    answered_.insert(answered.begin(), answered.end());
    return Status::Ok();
  }

  // Active runs: by task (an integrate run holds every task of its batch),
  // and dev runs by domain.
  Status LoadRuns() {
    PL_ASSIGN_OR_RETURN(runs_, ListRuns(db_, /*active_only=*/true));
    for (const auto& r : runs_) {
      if (r.task_id) run_of_task_[*r.task_id] = &r;
      if (r.phase == "integrate") {
        std::vector<std::string> together = IntegrateRunTasks(r);
        for (const auto& t : together) {
          run_of_task_[t] = &r;
          batch_of_task_[t] = together;
        }
      }
      if (r.phase == "dev" && r.domain) {
        dev_runs_in_[*r.domain].push_back(r.run_id);
        ++dev_total_;
      }
    }
    return Status::Ok();
  }

  Status LoadBudgets() {
    Ledger ledger(db_, clock_, in_.default_budget_cents);
    PL_ASSIGN_OR_RETURN(auto reports, ledger.Report());
    for (const auto& d : reports) budget_[d.domain] = d;
    PL_ASSIGN_OR_RETURN(paused_, PausedDomains(db_));
    return Status::Ok();
  }

  WaitReason For(const Task& t) const {
    WaitReason w;
    w.task_id = t.id;
    w.title = t.title;
    w.status = TaskStatusName(t.status);
    return w;
  }

  void NeedsPerson() {
    for (const Task& t : by_status_[TaskStatus::kNeedsHelp]) {
      WaitReason w = For(t);
      w.kind = WaitKind::kNeedsPerson;
      ExplainNeedsHelp(t, answered_.count(t.id) > 0, &w);
      out_->push_back(std::move(w));
    }
  }

  void Review() {
    for (const Task& t : by_status_[TaskStatus::kReview]) {
      WaitReason w = For(t);
      w.kind = WaitKind::kReview;
      w.reason = "waiting for review (`pipeline review approve|reject " + t.id + "`)";
      out_->push_back(std::move(w));
    }
  }

  // The merge queue, in queue order (seq): what is being checked together,
  // how long each change has waited, and what holds the rest back.
  Status MergeQueue() {
    PL_ASSIGN_OR_RETURN(BaseState base_state, ReadBaseState(db_));
    std::vector<Task>& verified = by_status_[TaskStatus::kVerified];
    std::stable_sort(verified.begin(), verified.end(), [](const Task& a, const Task& b) { return a.seq < b.seq; });
    int position = 0;
    for (const Task& t : verified) {
      WaitReason w = For(t);
      ++position;
      w.detail["queue_position"] = position;
      w.detail["waited_s"] = (now_ - t.updated_at) / 1'000'000;
      const std::string waited = fmt::format(" (waited {})", FormatAge(now_ - t.updated_at));
      auto run = run_of_task_.find(t.id);
      if (run != run_of_task_.end()) {
        Integrating(t, *run->second, waited, &w);
      } else {
        PL_ASSIGN_OR_RETURN(auto last, NewestEvent(db_, t.id, "'integrate-waiting', 'integrate-failed', 'failure', 'verify-pass', 'integrated'"));
        if (base_state.red) {
          const std::string name = base_state.base.empty() ? std::string("the base") : base_state.base;
          w.kind = WaitKind::kIntegrationWaiting;
          w.reason = "base red: " + name + " fails its check (since " + FormatAge(now_ - base_state.since) +
                     " ago; re-checked when it moves, every " + std::to_string(o_.base_recheck_s) +
                     "s or on `pipeline integrate --recheck-base`)" + waited;
          w.detail["base_red"] = true;
          w.detail["base_commit"] = base_state.commit;
          w.detail["why"] = base_state.output;
        } else if (last && last->kind == "integrate-waiting") {
          w.kind = WaitKind::kIntegrationWaiting;
          w.reason = OneLine(last->detail, 400);
          w.detail["since"] = FormatIso8601(last->at);
          w.detail["why"] = last->detail;
        } else {
          w.kind = WaitKind::kIntegrationQueued;
          w.reason = (position == 1 ? std::string("queued for integration (next in the merge queue)")
                                    : "queued for integration (#" + std::to_string(position) + " in the merge queue)") +
                     waited;
          if (last && last->kind == "integrate-failed") w.reason += "; last attempt: " + OneLine(last->detail, 200);
        }
      }
      out_->push_back(std::move(w));
    }
    return Status::Ok();
  }

  void Integrating(const Task& t, const RunRecord& run, const std::string& waited, WaitReason* w) {
    w->kind = WaitKind::kRunning;
    const std::vector<std::string>& together = batch_of_task_[t.id];
    if (together.size() > 1) {
      std::string others;
      for (const auto& o2 : together)
        if (o2 != t.id) others += (others.empty() ? "" : " ") + o2;
      w->reason = fmt::format("integrating: checked in a batch of {} with {} (run {}){}", together.size(), others,
                              run.run_id, waited);
      w->detail["batch"] = together;
    } else {
      w->reason = "integrating (run " + run.run_id + ")" + waited;
    }
    w->detail["run_id"] = run.run_id;
  }

  void InProgress() {
    for (const Task& t : by_status_[TaskStatus::kInProgress]) {
      WaitReason w = For(t);
      auto run = run_of_task_.find(t.id);
      if (run != run_of_task_.end()) {
        const RunRecord& r = *run->second;
        w.kind = WaitKind::kRunning;
        Micros started = r.started_at.value_or(r.created_at);
        w.reason = fmt::format("running: {} run {} ({:.0f}s)", r.phase, r.run_id, static_cast<double>(now_ - started) / 1e6);
        w.detail["run_id"] = r.run_id;
        w.detail["phase"] = r.phase;
      } else {
        w.kind = WaitKind::kOrphan;
        w.reason = "in progress without a live run (the next `pipeline run` harvests or reopens it)";
      }
      out_->push_back(std::move(w));
    }
  }

  // Open tasks in candidate order: the ready query decides which may start
  // (the rest wait on a dependency); then the start rules, in the
  // scheduler's order, each taking the first task that fails it.
  Status Open() {
    std::vector<Task> open = std::move(by_status_[TaskStatus::kOpen]);
    std::stable_sort(open.begin(), open.end(), [](const Task& a, const Task& b) {
      return a.priority != b.priority ? a.priority < b.priority : a.seq < b.seq;
    });
    slots_ = o_.max_active - dev_total_;
    for (const Task& t : open) {
      WaitReason w = For(t);
      if (!ready_ids_.count(t.id)) {
        Dependency(t, &w);
      } else if (!t.ns) {
        w.kind = WaitKind::kNoNamespace;
        w.reason = "no namespace: the task has no domain and is never scheduled (`pipeline task update " + t.id +
                   " --namespace NS`)";
      } else {
        const std::string domain = DomainFor(o_, *t.ns);
        w.detail["domain"] = domain;
        if (paused_.count(domain)) {
          PL_RETURN_IF_ERROR(Paused(domain, &w));
        } else if (t.not_before > now_) {
          PL_RETURN_IF_ERROR(Backoff(t, &w));
        } else {
          Capacity(domain, &w);
        }
      }
      out_->push_back(std::move(w));
    }
    return Status::Ok();
  }

  void Dependency(const Task& t, WaitReason* w) {
    w->kind = WaitKind::kDependency;
    json deps = json::array();
    std::string names;
    for (const std::string& d : t.deps) {
      auto s = status_of_.find(d);
      if (s == status_of_.end()) continue;  // done (or unknown): blocks nothing
      deps.push_back({{"task_id", d}, {"status", s->second}});
      names += (names.empty() ? "" : ", ") + d + " (" + s->second + ")";
    }
    w->detail["dependencies"] = deps;
    w->reason = "waiting on dependency " + (names.empty() ? std::string("(unknown)") : names);
  }

  // The scheduler leaves a paused domain out of its candidates altogether.
  Status Paused(const std::string& domain, WaitReason* w) {
    w->kind = WaitKind::kPaused;
    Stmt& p = db_.Cached("SELECT paused_at, paused_by FROM domain_pauses WHERE domain = ?");
    p.BindAll(domain);
    PL_ASSIGN_OR_RETURN(bool row, p.Step());
    w->reason = "paused: domain " + domain + " is paused";
    if (row) {
      w->reason += " (by " + p.Text(1) + " at " + FormatIso8601(p.Int(0)) + ")";
      w->detail["paused_at"] = FormatIso8601(p.Int(0));
      w->detail["paused_by"] = p.Text(1);
    }
    p.Reset();
    w->reason += "; nothing new starts there until it is resumed";
    return Status::Ok();
  }

  Status Backoff(const Task& t, WaitReason* w) {
    w->kind = WaitKind::kBackoff;
    PL_ASSIGN_OR_RETURN(auto last, NewestEvent(db_, t.id, "'failure', 'error'"));
    w->reason = fmt::format("back-off until {} ({:.0f}s; attempt {} of {})", FormatIso8601(t.not_before),
                            static_cast<double>(t.not_before - now_) / 1e6, t.retries + 1, o_.max_retries);
    if (last) w->reason += ", last error: " + OneLine(last->detail, 200);
    w->detail["until"] = FormatIso8601(t.not_before);
    w->detail["attempt"] = t.retries + 1;
    w->detail["of"] = o_.max_retries;
    if (last) w->detail["last_error"] = last->detail;
    return Status::Ok();
  }

  // Budget, the domain's limit, the global limit, memory: what the next step
  // would check, counting the starts it would make for the tasks before.
  void Capacity(const std::string& domain, WaitReason* w) {
    auto b = budget_.find(domain);
    int64_t remaining = b == budget_.end() ? in_.default_budget_cents : b->second.remaining_cents;
    remaining -= planned_[domain] * o_.reserve_cents;
    bool blocked = b != budget_.end() && b->second.overrun_blocked;
    int active_here = static_cast<int>(dev_runs_in_[domain].size());
    if (blocked || remaining < o_.reserve_cents) {
      w->kind = WaitKind::kNoBudget;
      w->reason = blocked ? "no budget in " + domain + " (blocked by an overrun until a grant)"
                          : fmt::format("no budget in {} (needs {}c, has {}c)", domain, o_.reserve_cents, remaining);
      w->detail["needs_cents"] = o_.reserve_cents;
      w->detail["has_cents"] = remaining;
    } else if (active_here + planned_[domain] >= o_.MaxActiveFor(domain)) {
      w->kind = WaitKind::kDomainBusy;
      const std::string runs_here = Join(dev_runs_in_[domain], ", ");
      if (active_here >= o_.MaxActiveFor(domain))
        w->reason = fmt::format("domain busy: {} ({} of {} dev runs: {})", domain, active_here,
                                o_.MaxActiveFor(domain), runs_here);
      else
        w->reason = fmt::format("domain busy: {} (limit {}; an older task starts first)", domain, o_.MaxActiveFor(domain));
      w->detail["runs"] = dev_runs_in_[domain];
    } else if (slots_ <= 0) {
      w->kind = WaitKind::kMaxActive;
      w->reason = fmt::format("max-active: all {} dev slots are in use", o_.max_active);
    } else if (const Status& mem = MemoryRefusal(); !mem.ok()) {
      // As the scheduler: the start waits for memory, and so does every start after it.
      w->kind = WaitKind::kMemory;
      w->reason = "memory: " + OneLine(mem.message());
      w->detail["why"] = mem.message();
    } else {
      w->kind = WaitKind::kReady;
      w->reason = "ready: starts on the next step";
      ++planned_[domain];
      --slots_;
    }
  }

  // The memory gate, asked at most once (it reads /proc/meminfo): every task
  // that would start waits on the same free memory.
  const Status& MemoryRefusal() {
    if (!memory_) memory_ = in_.memory_gate ? in_.memory_gate() : Status::Ok();
    return *memory_;
  }

  Db& db_;
  const WaitingInput& in_;
  const SchedulerOptions& o_;
  Clock& clock_;
  const Micros now_;
  std::vector<WaitReason>* out_ = nullptr;

  std::map<TaskStatus, std::vector<Task>> by_status_;
  std::map<std::string, std::string> status_of_;  // id -> status, done tasks absent
  std::set<std::string> ready_ids_;
  std::set<std::string> answered_;  // needs-help tasks the next step reopens
  std::vector<RunRecord> runs_;
  std::map<std::string, const RunRecord*> run_of_task_;
  std::map<std::string, std::vector<std::string>> batch_of_task_;  // task -> the tasks checked with it
  std::map<std::string, std::vector<std::string>> dev_runs_in_;    // domain -> run ids
  int dev_total_ = 0;
  std::map<std::string, DomainReport> budget_;
  std::set<std::string> paused_;
  std::optional<Status> memory_;
  std::map<std::string, int> planned_;  // starts the next step would make, per domain
  int slots_ = 0;
};

}  // namespace

Result<std::vector<WaitReason>> ComputeWaiting(Db& db, const WaitingInput& in, Clock& clock) {
  std::vector<WaitReason> out;
  Status st = db.Read([&]() -> Status { return Explainer(db, in, clock).Explain(&out); });
  if (!st.ok()) return st.error();
  return out;
}

}  // namespace pipeline
