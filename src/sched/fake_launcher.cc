#include "sched/fake_launcher.h"

#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "agent/run_store.h"
#include "proc/process.h"
#include "util/files.h"

namespace pipeline {

FakeLauncher::FakeLauncher(Db& db, Clock& clock, FakeTaskRepo* repo) : db_(&db), clock_(clock), repo_(repo) {}

Status FakeLauncher::Launch(const LaunchRequest& run) {
  if (crash_countdown_ > 0 && --crash_countdown_ == 0) throw SimulatedCrash();
  if (refuse_) return Unavailable("launch refused (injected)");
  ++launches_;
  held_[run.run_id] = Held{run, next_order_++, false, lose_};
  if (lose_) return Status::Ok();
  // The worker is this process: a claim that is alive for as long as the test.
  pid_t self = getpid();
  uint64_t start = ProcessStartTime(self).value_or(0);
  std::string head = "h" + std::to_string(next_head_++);
  return db_->Write([&]() -> Status {
    PL_RETURN_IF_ERROR(ClaimRunForMonitor(*db_, run.run_id, self, start).status());
    return MarkRunRunning(*db_, run.run_id, 0, clock_.Now(), head, "fake");
  });
}

void FakeLauncher::Adopt(const RunRecord& run) {
  // Runs survive a dropped scheduler here; one recorded before a crash that
  // never reached Launch is unknown and stays unclaimed.
  (void)run;
}

// Harvested: the run's worker is gone for good.
void FakeLauncher::Forget(const std::string& run_id) { held_.erase(run_id); }

std::vector<std::string> FakeLauncher::Running(const std::string& phase) const {
  std::vector<std::pair<int64_t, std::string>> v;
  for (const auto& [id, h] : held_)
    if (!h.dead && !h.lost && (phase.empty() || h.req.phase == phase)) v.emplace_back(h.order, id);
  std::sort(v.begin(), v.end());
  std::vector<std::string> out;
  for (auto& [o, id] : v) out.push_back(id);
  return out;
}

std::optional<LaunchRequest> FakeLauncher::Request(const std::string& run_id) const {
  auto it = held_.find(run_id);
  if (it == held_.end()) return std::nullopt;
  return it->second.req;
}

Status FakeLauncher::Finish(const std::string& run_id, const RunOutcome& o) {
  Status s = FinishRun(*db_, run_id, o);
  held_.erase(run_id);
  return s;
}

Status FakeLauncher::FinishDev(const std::string& run_id, RunStatus status, double cost_cents, bool commit) {
  PL_ASSIGN_OR_RETURN(RunRecord run, GetRun(*db_, run_id));
  RunOutcome o;
  o.status = status;
  o.ended_at = clock_.Now();
  o.cost_cents = cost_cents;
  o.exit_code = status == RunStatus::kDone ? 0 : 1;
  o.head_after = run.head_before;
  if (commit) {
    o.head_after = "h" + std::to_string(next_head_++);
    if (repo_ && run.task_id) repo_->AddCommit(*run.task_id);
  }
  if (status == RunStatus::kFailed) o.error = "the agent failed";
  return Finish(run_id, o);
}

Status FakeLauncher::FinishVerify(const std::string& run_id, bool pass, const std::string& output) {
  PL_ASSIGN_OR_RETURN(RunRecord run, GetRun(*db_, run_id));
  if (!output.empty()) {
    PL_RETURN_IF_ERROR(MakeDirs(run.stdout_path.substr(0, run.stdout_path.rfind('/'))));
    PL_RETURN_IF_ERROR(WriteFileAtomic(run.stdout_path, output, FileSync::kNoFsync));
  }
  RunOutcome o;
  o.status = pass ? RunStatus::kDone : RunStatus::kFailed;
  o.exit_code = pass ? 0 : 1;
  o.ended_at = clock_.Now();
  return Finish(run_id, o);
}

Status FakeLauncher::FinishIntegrate(const std::string& run_id, const std::string& outcome) {
  PL_ASSIGN_OR_RETURN(RunRecord run, GetRun(*db_, run_id));
  RunOutcome o;
  o.ended_at = clock_.Now();
  if (outcome.empty()) {
    o.status = RunStatus::kFailed;
    o.error = "the integrate worker died";
    return Finish(run_id, o);
  }
  nlohmann::json line = {{"outcome", outcome}};
  if (outcome == "integrated") {
    line["commit"] = "m" + std::to_string(next_head_++);
    if (repo_ && run.task_id) repo_->Merge(*run.task_id);
  } else if (outcome == "conflict") {
    line["files"] = {"src/a.cc"};
  } else if (outcome == "check-failed") {
    line["output_tail"] = "1 test failed";
  } else if (outcome == "waiting") {
    line["reason"] = "the base checkout is dirty";
  }
  PL_RETURN_IF_ERROR(MakeDirs(run.stdout_path.substr(0, run.stdout_path.rfind('/'))));
  PL_RETURN_IF_ERROR(WriteFileAtomic(run.stdout_path, line.dump() + "\n", FileSync::kNoFsync));
  o.status = RunStatus::kDone;
  o.exit_code = 0;
  return Finish(run_id, o);
}

Status FakeLauncher::FinishIntegrateBatch(const std::string& run_id,
                                          const std::map<std::string, std::string>& outcomes, int checks_run,
                                          bool base_red, const std::string& green_base) {
  PL_ASSIGN_OR_RETURN(RunRecord run, GetRun(*db_, run_id));
  std::string text;
  int landed = 0;
  // In the run's order (its argv), as the worker prints them.
  for (const std::string& arg : run.argv) {
    auto it = outcomes.find(arg);
    if (it == outcomes.end()) continue;
    nlohmann::json line = {{"task", arg}, {"outcome", it->second}};
    if (it->second == "integrated") {
      line["commit"] = "m" + std::to_string(next_head_++);
      if (repo_) repo_->Merge(arg);
      ++landed;
    } else if (it->second == "conflict") {
      line["files"] = {"src/a.cc"};
    } else if (it->second == "check-failed") {
      line["output_tail"] = "FAIL: test_of_" + arg;
    }
    text += line.dump() + "\n";
  }
  nlohmann::json summary = {{"outcome", "batch"},  {"changes", outcomes.size()}, {"landed", landed},
                            {"checks_run", checks_run}, {"old_base", "b0"}, {"new_base", "b1"},
                            {"green_base", base_red ? "" : green_base}, {"base_red", base_red}};
  if (base_red) summary["base_output"] = "FAIL: the base itself";
  text += summary.dump() + "\n";
  PL_RETURN_IF_ERROR(MakeDirs(run.stdout_path.substr(0, run.stdout_path.rfind('/'))));
  PL_RETURN_IF_ERROR(WriteFileAtomic(run.stdout_path, text, FileSync::kNoFsync));
  RunOutcome o;
  o.status = RunStatus::kDone;
  o.exit_code = 0;
  o.ended_at = clock_.Now();
  return Finish(run_id, o);
}

void FakeLauncher::Crash(const std::string& run_id) {
  auto it = held_.find(run_id);
  if (it != held_.end()) it->second.dead = true;
}

Status FakeLauncher::Reconcile(bool watching) {
  Micros now = clock_.Now();
  for (auto it = held_.begin(); it != held_.end();) {
    if (!it->second.dead) {
      ++it;
      continue;
    }
    Status s = FailRun(*db_, it->first, "monitor died", now);
    if (!s.ok() && s.kind() != ErrorKind::kRefused) return s;
    it = held_.erase(it);
  }
  if (watching) PL_RETURN_IF_ERROR(FailUnclaimedRuns(*db_, now, kClaimGrace));
  return Status::Ok();
}

Status FakeLauncher::Kill(const std::string& run_id) {
  PL_RETURN_IF_ERROR(MarkKillRequested(*db_, run_id));
  RunOutcome o;
  o.status = RunStatus::kKilled;
  o.ended_at = clock_.Now();
  return Finish(run_id, o);
}

}  // namespace pipeline
