// The check a merge result must pass before the base branch moves: the
// domain's verify command, run in a scratch detached worktree holding exactly
// the merge commit (reused between runs: creating a worktree costs seconds on
// a large repository, resetting one costs milliseconds).
#pragma once

#include <map>
#include <string>

#include "git/git.h"
#include "proc/process.h"
#include "config/verify.h"
#include "util/status.h"

namespace pipeline {

inline constexpr size_t kCheckOutputTailBytes = 4096;

struct CheckResult {
  bool passed = false;
  bool timed_out = false;
  std::string output_tail;  // stdout then stderr, the last kCheckOutputTailBytes
};

// Puts commit into scratch_dir (Git::ExportTree) and runs cmd there with
// env added to the environment. A command that cannot be started is a
// failed check (its error is the output), not an error: the configuration is
// wrong, and a person must see it on the task.
Result<CheckResult> RunIntegrationCheck(Git& git, ProcessRunner& runner, const std::string& scratch_dir,
                                        const std::string& commit, const VerifyCommand& cmd,
                                        const std::map<std::string, std::string>& env);

}  // namespace pipeline
