// A Launcher that runs nothing: tests and the simulation decide how each run
// ends, and the fake writes the rows a monitor would (claim, running, final
// row with status, cost, head, error; the integrate worker's JSON answer on
// stdout). Runs live in the fake, not in a Scheduler, so they survive a
// dropped scheduler the way monitors survive a killed one.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/run_store.h"
#include "sched/fake_task_repo.h"
#include "sched/launcher.h"

namespace pipeline {

// Thrown by FakeLauncher::Launch when a crash was armed: the scheduler
// "dies" after recording a run and before its worker started.
struct SimulatedCrash : std::runtime_error {
  SimulatedCrash() : std::runtime_error("simulated scheduler crash") {}
};

class FakeLauncher final : public Launcher {
 public:
  // db: the connection the "workers" write with. repo: where dev runs that
  // commit add their commit (may be null in shared-workspace mode).
  FakeLauncher(Db& db, Clock& clock, FakeTaskRepo* repo);

  // --- what happens to the next launches ---
  void RefuseLaunches(bool refuse) { refuse_ = refuse; }  // Launch fails: the run did not start
  void LoseLaunches(bool lose) { lose_ = lose; }  // accepted, but the worker never claims the row
  void CrashOnLaunch(int nth) { crash_countdown_ = nth; }  // the nth Launch from now throws

  // --- the runs it holds (started, not finished), oldest first ---
  std::vector<std::string> Running(const std::string& phase = "") const;
  std::optional<LaunchRequest> Request(const std::string& run_id) const;
  int launches() const { return launches_; }
  void Rebind(Db& db) { db_ = &db; }  // after a simulated crash reopened the store

  // --- ending a run, as its worker would ---
  // A dev run: status and cost; commit adds a commit on the task branch and
  // moves head_after.
  Status FinishDev(const std::string& run_id, RunStatus status, double cost_cents, bool commit);
  // A verify run: exit 0 and done, or exit 1 and failed with output on stdout.
  Status FinishVerify(const std::string& run_id, bool pass, const std::string& output = "");
  // An integrate run answering outcome ("integrated", "conflict",
  // "check-failed", "waiting"); empty: it died without an answer (failed).
  // "integrated" merges the branch in the repo.
  Status FinishIntegrate(const std::string& run_id, const std::string& outcome);
  // An integrate-batch run answering for each of its tasks (outcomes by
  // task id: "integrated", "conflict", "check-failed", "requeued"; a task
  // left out gets no line), then the summary line with checks_run, base_red
  // and green_base. "integrated" merges the branch in the repo.
  Status FinishIntegrateBatch(const std::string& run_id, const std::map<std::string, std::string>& outcomes,
                              int checks_run, bool base_red = false, const std::string& green_base = "g");
  // The worker dies without writing its final row; the next Reconcile
  // records "monitor died".
  void Crash(const std::string& run_id);

  Status Launch(const LaunchRequest& run) override;
  void Adopt(const RunRecord& run) override;
  void Forget(const std::string& run_id) override;
  Status Reconcile(bool watching) override;
  std::vector<Watch> Watches() const override { return {}; }
  void OnReadable(const std::string&) override {}
  std::optional<Micros> PollEvery() const override { return std::nullopt; }
  Status Kill(const std::string& run_id) override;
  void Detach(Micros) override {}

 private:
  struct Held {
    LaunchRequest req;
    int64_t order = 0;
    bool dead = false;  // Crash: the next Reconcile fails its row
    bool lost = false;  // LoseLaunches: never claimed
  };
  Status Finish(const std::string& run_id, const RunOutcome& o);

  Db* db_;
  Clock& clock_;
  FakeTaskRepo* repo_;
  std::map<std::string, Held> held_;
  bool refuse_ = false, lose_ = false;
  int crash_countdown_ = 0;
  int launches_ = 0;
  int64_t next_order_ = 0;
  int64_t next_head_ = 0;
};

}  // namespace pipeline
