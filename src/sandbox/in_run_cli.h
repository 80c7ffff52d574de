// `pipeline task|fund ...` run by an agent inside a confined run. The store
// is not reachable from there; the two things a run may do, comment on its
// own task and read it, go to the run's monitor over the run channel, and
// every other write is refused with one line.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pipeline {

// PIPELINE_RUN_SOCKET names the channel; nullopt when it is unset (not in a
// run: the caller goes on as usual). Otherwise the exit code: 0, 1 (refused
// or failed, one line on stderr) or 2 (usage).
std::optional<int> InsideRunCommand(const std::string& command, const std::vector<std::string>& args);

}  // namespace pipeline
