#include "config/config.h"

namespace pipeline {

// Every key, commented out, with its default. Each subsystem documents its
// own section; docs/configuration.md explains them at length.
const char* DefaultConfigText() {
  return R"toml(# pipeline configuration. Every key is shown commented out with its default.
# See docs/configuration.md for the meaning of each.

[fund]
# Budget (cents) an unknown domain gets the first time it is seen. 0: an
# unknown domain has no budget, so nothing runs there until `fund grant`.
# default_budget_cents = 0

[scheduler]
# max_active = 8          # runs at once, all domains together
# reserve_cents = 300     # hold taken on the domain's budget for each run
# max_retries = 3         # failed runs per patchset before needs-help
# max_task_cost_cents = 0 # cumulative cost per task before needs-help (0: no cap)
# backoff_base_s = 30     # back-off after a failure: min(600, base * 2^retries)
# interval_s = 60         # fallback poll, only for external task/fund/agentd backends
# max_cost_cents = 300    # a run is stopped past this (default: reserve_cents)
# max_patchsets = 10      # rejected patchsets (verify/integration) before needs-help
# domain_max_active = 1   # dev runs at once per domain ([domains."<d>"] max_active overrides)
# integrate_retry_s = 5   # merge-queue retry after "waiting" or a crashed worker
# external_timeout_s = 30 # deadline of every call to an external task/fund/agentd
# after_run = "verify"    # or "review": every finished dev run goes to review (the seed's way)
# workspace = "worktree"  # or "shared": runs work in the repository itself (no git needed)
# base = ""               # branch to integrate into (default: the current branch)
# profile = ""            # agent profile of dev runs (default: agent.profile)
# toolchain = "haskell"   # prompt frontmatter

[agent]
# profile = "command"     # profile used when a prompt's frontmatter names none
# timeout_s = 1800
# max_iter = 80
# log_cap_bytes = 8388608 # per stream; the middle of a larger log is dropped

[notify]
# Run by `pipeline serve` once per task that moves into needs-help or review,
# and once per failure, with a JSON document on stdin (event, task_id, title,
# reason, question, link). An argv, never a shell string. Unset: no notifications.
# command = ["notify-send-json"]
[sandbox]
# Agent runs are confined (docs/security.md): bubblewrap + Landlock.
# enabled = true
# off = []                # protections to go without: "filesystem", "processes", "network", "memory"
# read_deny = ["~/.ssh", "~/.aws", "~/.config/gh", "~/.netrc", "~/.git-credentials", "~/.gnupg",
#              "~/.docker", "~/.kube", "~/.config/gcloud", "~/.azure", "~/.claude", "~/.claude.json",
#              "~/.codex", "~/.config/claude", "~/.gemini", "/run/docker.sock", "/var/run/docker.sock"]
# read_deny_extra = []    # added to read_deny
# memory_limit_mb = 8192  # per run, children included; 0: none
# min_free_mb = 1024      # MemAvailable kept free when a run starts
# Per profile ([profiles.NAME]): credentials = ["~/.claude/.credentials.json"],
# pass_env = ["ANTHROPIC_API_KEY"], net_ports = "443" ("any": unrestricted).
)toml";
}

}  // namespace pipeline
