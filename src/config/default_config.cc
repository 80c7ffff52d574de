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

[agent]
# profile = "command"     # profile used when a prompt's frontmatter names none
# timeout_s = 1800
# max_iter = 80
# log_cap_bytes = 8388608 # per stream; the middle of a larger log is dropped
)toml";
}

}  // namespace pipeline
