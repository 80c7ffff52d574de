// Everything `pipeline run` can be told: the command-line options, with
// defaults taken from the [scheduler], [domains], [[domain_rules]], [verify]
// and [review] sections of .pipeline/config.toml. Filled once at start;
// the scheduler never reads the config file again.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/verify.h"
#include "util/status.h"

namespace pipeline {

// What happens to a dev run that ended with a commit.
enum class AfterRun {
  kVerify,  // verify -> verified -> integrate -> done (the default)
  kReview,  // every finished run goes to review: a person decides, no verify command needed
};

// `[[domain_rules]] match = "src/api/*"  domain = "api"`: the first
// rule whose glob (fnmatch) matches a task's namespace names its domain.
struct DomainRule {
  std::string match;
  std::string domain;
};

struct SchedulerOptions {
  double interval_s = 60;     // fallback poll; only external backends need it
  int max_active = 8;         // dev runs at once, all domains together
  int64_t reserve_cents = 300;
  std::string toolchain;  // prompt frontmatter; empty: not written
  std::optional<std::string> provider, model;
  std::optional<int64_t> timeout_s, max_iter;
  std::optional<int64_t> max_cost_cents;  // unset: reserve_cents, so no run outspends its hold
  bool once = false, dry_run = false, until_idle = false;
  std::string task_cmd, fund_cmd, agentd_cmd;  // all three set: external mode
  std::optional<std::string> parent, task_id;   // candidate filters
  int max_retries = 3;
  int max_patchsets = 10;  // rejected patchsets (verify/integration) before needs-help
  // Cumulative cost of one task before needs-help; unset: kTaskCostHolds x
  // reserve_cents, 0: no cap.
  std::optional<int64_t> max_task_cost_cents;
  std::string base;                 // empty: the repository's current branch
  AfterRun after_run = AfterRun::kVerify;
  std::string profile;  // agent profile for dev runs; empty: agent.profile
  int64_t backoff_base_s = 30;
  int64_t external_timeout_s = 30;
  int64_t integrate_retry_s = 5;   // after an integrate run answered "waiting"
  // [integrate]: the batched merge queue (docs/integrate.md).
  int batch_max = 8;               // verified changes checked together (1: the serial queue)
  int integrate_parallel = 4;      // check slots of a red batch's search (integrate/batch.h)
  bool branch_check = true;        // integrate.branch_check: "always" (true) or "never"
  int64_t base_recheck_s = 300;    // a red base is checked again this often (and when it moves)
  std::string integrate_mode;      // integrate.mode; empty: squash
  int default_domain_max_active = 1;
  std::map<std::string, int> domain_max_active;  // [domains."<d>"] max_active
  std::vector<DomainRule> domain_rules;
  VerifyConfig verify;  // [verify]: the same reader as the merge-queue worker's check
  bool review_required = false;  // [review] required: verified work stops at review
  // scheduler.workspace = "worktree" (default): each task works in its own git
  // worktree on branch pipeline/<id>. "shared": every run works in the
  // repository itself (no git needed; for benchmarks and
  // stores outside a repository; runs of different domains share files).
  bool shared_workspace = false;

  // One hopeless task may spend this many run holds before a person looks.
  static constexpr int64_t kTaskCostHolds = 4;

  int64_t MaxCostCents() const { return max_cost_cents ? *max_cost_cents : reserve_cents; }
  // 0: no cap.
  int64_t MaxTaskCostCents() const {
    return max_task_cost_cents ? *max_task_cost_cents : kTaskCostHolds * reserve_cents;
  }
  bool external() const { return !task_cmd.empty() || !fund_cmd.empty() || !agentd_cmd.empty(); }
  int MaxActiveFor(const std::string& domain) const;
};

// Defaults from the config file (every key optional; a key of the wrong type
// is an error naming it). Command-line values are applied over the result.
Result<SchedulerOptions> OptionsFromConfig(const Config& config);

// Checks that hold whatever the source: positive limits, all three external
// commands or none. kInvalidArgument naming the option.
Status ValidateOptions(const SchedulerOptions& o);

// The domain of a namespace: the first matching rule, else the namespace
// itself with surrounding whitespace removed.
std::string DomainFor(const SchedulerOptions& o, const std::string& ns);

// Back-off before retry number `retries` (1-based count of failures, or of
// rejected patchsets, so far): min(600 s, base * 2^retries), in microseconds.
int64_t BackoffMicros(int64_t base_s, int64_t retries);

}  // namespace pipeline
