// Which command checks a task's work: the one reader of the [verify] section
// of .pipeline/config.toml. Both phases that check work use it: the
// scheduler's verify run (in the task's worktree, after a dev run) and the
// merge-queue worker's check (on the merge commit, `pipeline integrate-task`).
// So a domain gets the same argv, substitutions and timeout in both.
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
//
// It lives in src/config, not beside either phase, because the scheduler
// (pl_sched) and the merge-queue worker (pl_integrate) both depend on
// pl_config and on nothing of each other's.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "util/status.h"

namespace pipeline {

inline constexpr int64_t kDefaultVerifyTimeoutS = 1800;

// The check for one task: what to run, and for how long at most.
struct VerifyCommand {
  std::vector<std::string> argv;  // placeholders already substituted; never empty
  int64_t timeout_s = kDefaultVerifyTimeoutS;
};

// The [verify] section as written, read once at start.
struct VerifyConfig {
  // One table: [verify] itself, or [verify.domains."<d>"]. An absent key
  // falls back to [verify]'s; an empty command switches checks off.
  struct Table {
    std::optional<std::vector<std::string>> command;
    std::optional<int64_t> timeout_s;
  };
  Table fallback;
  std::map<std::string, Table> domains;

  // The check for a task of `domain` whose namespace is `ns` (either may be
  // empty): [verify.domains."<domain>"] first, then [verify]. nullopt when
  // neither names a command, or the command is an empty array.
  std::optional<VerifyCommand> For(const std::string& domain, const std::string& ns) const;
};

// Reads and checks every [verify] table, so a mistake in any domain's table
// is reported at start, not when that domain's first check comes due.
// kInvalidArgument, naming the key, for a key of the wrong type, a timeout
// below 1 or a command whose program is the empty string.
Result<VerifyConfig> ReadVerifyConfig(const Config& config);

}  // namespace pipeline
