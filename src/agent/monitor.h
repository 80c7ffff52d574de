// The per-run monitor: a small process (the pipeline binary re-executed as
// `pipeline agent __monitor RUN_ID --root ROOT`, in its own session) that
// starts the agent, reads its output, enforces the run's limits and writes
// the run's end in one transaction before it exits.
#pragma once

#include <string>

#include "store/root.h"

namespace pipeline {

// handshake_fd: the write end of the caller's pipe (-1: none). The monitor
// writes "ok\n" once the agent runs, or "error: <reason>\n" when it cannot
// start it, then closes it. Returns the monitor's exit code.
int RunMonitor(const RootPaths& paths, const std::string& run_id, int handshake_fd);

}  // namespace pipeline
