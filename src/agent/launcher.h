// Starting a run's monitor and asking a run to stop: what `agent run`,
// `agent kill` and the scheduler call.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "store/db.h"
#include "store/root.h"
#include "util/status.h"

namespace pipeline {

// The monitor's command line: `SELF agent __monitor RUN_ID --root ROOT`.
// self_exe empty: this process's executable.
std::vector<std::string> MonitorArgv(const std::string& self_exe, const RootPaths& paths, const std::string& run_id);

// Starts the monitor for a run already inserted in `starting` and waits for
// its handshake: returns the monitor's pid once the agent is running, or an
// error when it could not start (the row is then failed). Does not wait for
// the run to end. The monitor is our child: the caller reaps it (waitpid) or
// exits. self_exe empty: this process's executable.
Result<pid_t> StartMonitor(const RootPaths& paths, const std::string& run_id);
Result<pid_t> StartMonitor(const RootPaths& paths, const std::string& run_id, const std::string& self_exe);

// Sets kill_requested and signals the monitor (SIGUSR1), which stops the
// agent's group and records `killed`. A run whose monitor is gone is reaped
// as failed. kRefused when the run already ended; kNotFound for no such run.
Status RequestKill(Db& db, const RootPaths& paths, const std::string& run_id);

}  // namespace pipeline
