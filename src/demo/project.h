// The demo's sample project, "textkit": a few text utilities in POSIX shell
// with their own tests (`sh tests/run.sh`). Shell only, so a fresh machine
// with sh and git runs it; nothing here needs python or a network.
#pragma once

#include <map>
#include <string>

#include "proc/process.h"
#include "util/status.h"

namespace pipeline::demo {

inline constexpr const char* kDemoBaseBranch = "main";
// The identity the sample repository commits with (the agent uses its own).
inline constexpr const char* kDemoUserName = "textkit maintainer";
inline constexpr const char* kDemoUserEmail = "maintainer@textkit.invalid";

// Relative path -> content of the project's first commit.
const std::map<std::string, std::string>& DemoProjectFiles();

// Writes the files into dir (which must exist), then `git init -b main`,
// sets a local identity and makes the first commit. Every git call is an argv.
Status CreateDemoProject(ProcessRunner& runner, const std::string& dir);

// Runs one git command in dir; a non-zero exit is an error with git's message.
Result<std::string> RunGit(ProcessRunner& runner, const std::string& dir, const std::vector<std::string>& args);

}  // namespace pipeline::demo
