// Which command checks a task's work: the one place that reads the [verify]
// section of .pipeline/config.toml, shared by the merge-queue worker
// (`pipeline integrate-task`) and the scheduler's verify phase, so both run
// the same check for a domain.
//
//   [verify]
//   command = ["make", "test"]        # default for every domain; absent: no check
//   timeout_s = 1800
//   [verify.domains."Omni/A.hs"]
//   command = ["bild", "--test", "{namespace}"]
//   timeout_s = 600                   # optional; else verify.timeout_s
//
// In each argv element "{namespace}" and "{domain}" are replaced by the
// task's namespace and domain. The result is still an argv: nothing is ever
// handed to a shell.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "util/status.h"

namespace pipeline {

inline constexpr int64_t kDefaultVerifyTimeoutS = 1800;

struct VerifyCommand {
  std::vector<std::string> argv;  // placeholders already substituted; never empty
  int64_t timeout_s = kDefaultVerifyTimeoutS;
};

// The command for a task of `domain` whose namespace is `ns` (either may be
// empty): [verify.domains."<domain>"] first, then [verify]. nullopt when
// neither names a command (or the command is an empty array: checks are
// switched off for that domain). kInvalidArgument, naming the key, for a key
// of the wrong type or a timeout below 1.
Result<std::optional<VerifyCommand>> VerifyCommandFor(const Config& config, const std::string& domain,
                                                      const std::string& ns);

}  // namespace pipeline
