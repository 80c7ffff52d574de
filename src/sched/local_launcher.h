// The launcher of `pipeline run`: one monitor process per run
// (`pipeline agent __monitor RUN_ID`, agent/monitor.h), started detached in
// its own session so it outlives the scheduler. The monitor claims the row,
// runs the agent and writes the final row just before it exits; a pidfd on it
// tells the wait loop the moment that happened. Starting costs one spawn and
// no transaction here (the monitor claims the row itself).
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "sched/launcher.h"
#include "store/root.h"

namespace pipeline {

class LocalLauncher final : public Launcher {
 public:
  // self_exe: the pipeline binary the monitors run.
  LocalLauncher(Db& db, RootPaths paths, Clock& clock, std::string self_exe);
  ~LocalLauncher() override;
  LocalLauncher(const LocalLauncher&) = delete;
  LocalLauncher& operator=(const LocalLauncher&) = delete;

  Status Launch(const LaunchRequest& run) override;
  void Adopt(const RunRecord& run) override;
  void Forget(const std::string& run_id) override;
  Status Reconcile(bool watching) override;
  std::vector<Watch> Watches() const override;
  void OnReadable(const std::string& run_id) override;
  std::optional<Micros> PollEvery() const override;
  Status Kill(const std::string& run_id) override;
  void Detach(Micros timeout) override;

 private:
  struct Monitor {
    pid_t pid = 0;           // 0: adopted before its monitor claimed the row
    bool our_child = false;  // started by this process: reap it
    int pidfd = -1;          // readable when the monitor exits; -1: poll the row
  };

  Db& db_;
  RootPaths paths_;
  Clock& clock_;
  std::string self_exe_;
  std::map<std::string, Monitor> monitors_;
  std::vector<pid_t> zombies_;       // exited-or-exiting monitors to reap
  std::vector<std::string> exited_;  // runs whose monitor exited since the last Reconcile
  bool monitor_exited_ = false;
};

}  // namespace pipeline
