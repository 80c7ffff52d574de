#include "sched/scheduler_options.h"

#include <fnmatch.h>

#include "util/text.h"

namespace pipeline {

int SchedulerOptions::MaxActiveFor(const std::string& domain) const {
  auto it = domain_max_active.find(domain);
  return it == domain_max_active.end() ? default_domain_max_active : it->second;
}

static std::string QuoteKey(const std::string& k) { return "\"" + k + "\""; }

Result<SchedulerOptions> OptionsFromConfig(const Config& c) {
  SchedulerOptions o;
  PL_ASSIGN_OR_RETURN(int64_t max_active, c.IntOr("scheduler.max_active", o.max_active));
  o.max_active = static_cast<int>(max_active);
  PL_ASSIGN_OR_RETURN(o.reserve_cents, c.IntOr("scheduler.reserve_cents", o.reserve_cents));
  PL_ASSIGN_OR_RETURN(o.max_cost_cents, c.Int("scheduler.max_cost_cents"));
  PL_ASSIGN_OR_RETURN(int64_t retries, c.IntOr("scheduler.max_retries", o.max_retries));
  o.max_retries = static_cast<int>(retries);
  PL_ASSIGN_OR_RETURN(int64_t patchsets, c.IntOr("scheduler.max_patchsets", o.max_patchsets));
  o.max_patchsets = static_cast<int>(patchsets);
  PL_ASSIGN_OR_RETURN(o.max_task_cost_cents, c.Int("scheduler.max_task_cost_cents"));
  PL_ASSIGN_OR_RETURN(o.backoff_base_s, c.IntOr("scheduler.backoff_base_s", o.backoff_base_s));
  PL_ASSIGN_OR_RETURN(o.interval_s, c.DoubleOr("scheduler.interval_s", o.interval_s));
  PL_ASSIGN_OR_RETURN(o.external_timeout_s, c.IntOr("scheduler.external_timeout_s", o.external_timeout_s));
  PL_ASSIGN_OR_RETURN(o.integrate_retry_s, c.IntOr("scheduler.integrate_retry_s", o.integrate_retry_s));
  PL_ASSIGN_OR_RETURN(o.toolchain, c.StringOr("scheduler.toolchain", o.toolchain));
  PL_ASSIGN_OR_RETURN(o.base, c.StringOr("scheduler.base", o.base));
  PL_ASSIGN_OR_RETURN(o.profile, c.StringOr("scheduler.profile", o.profile));
  PL_ASSIGN_OR_RETURN(std::string after, c.StringOr("scheduler.after_run", "verify"));
  if (after == "verify") o.after_run = AfterRun::kVerify;
  else if (after == "review") o.after_run = AfterRun::kReview;
  else return InvalidArgument(c.origin() + ": key scheduler.after_run must be \"verify\" or \"review\"");
  PL_ASSIGN_OR_RETURN(o.provider, c.String("scheduler.provider"));
  PL_ASSIGN_OR_RETURN(o.model, c.String("scheduler.model"));
  PL_ASSIGN_OR_RETURN(o.timeout_s, c.Int("scheduler.timeout_s"));
  PL_ASSIGN_OR_RETURN(o.max_iter, c.Int("scheduler.max_iter"));
  PL_ASSIGN_OR_RETURN(int64_t dmax, c.IntOr("scheduler.domain_max_active", o.default_domain_max_active));
  o.default_domain_max_active = static_cast<int>(dmax);

  for (const std::string& d : c.Keys("domains")) {
    PL_ASSIGN_OR_RETURN(auto n, c.Int("domains." + QuoteKey(d) + ".max_active"));
    if (n) o.domain_max_active[d] = static_cast<int>(*n);
  }
  PL_ASSIGN_OR_RETURN(auto rules, c.TableArray("domain_rules"));
  for (const auto& r : rules) {
    auto m = r.find("match"), d = r.find("domain");
    if (m == r.end() || d == r.end() || m->second.empty() || d->second.empty())
      return InvalidArgument(c.origin() + ": every [[domain_rules]] entry needs a non-empty match and domain");
    o.domain_rules.push_back({m->second, d->second});
  }
  PL_ASSIGN_OR_RETURN(o.verify, ReadVerifyConfig(c));
  PL_ASSIGN_OR_RETURN(std::string ws, c.StringOr("scheduler.workspace", "worktree"));
  if (ws == "shared") o.shared_workspace = true;
  else if (ws != "worktree")
    return InvalidArgument(c.origin() + ": key scheduler.workspace must be \"worktree\" or \"shared\"");
  PL_ASSIGN_OR_RETURN(o.review_required, c.BoolOr("review.required", o.review_required));
  PL_ASSIGN_OR_RETURN(int64_t batch_max, c.IntOr("integrate.batch_max", o.batch_max));
  if (batch_max < 1 || batch_max > 64)
    return InvalidArgument(c.origin() + ": key integrate.batch_max must be between 1 and 64");
  o.batch_max = static_cast<int>(batch_max);
  PL_ASSIGN_OR_RETURN(int64_t parallel, c.IntOr("integrate.parallel", o.integrate_parallel));
  if (parallel < 1 || parallel > 16)
    return InvalidArgument(c.origin() + ": key integrate.parallel must be between 1 and 16");
  o.integrate_parallel = static_cast<int>(parallel);
  PL_ASSIGN_OR_RETURN(std::string branch_check, c.StringOr("integrate.branch_check", "always"));
  if (branch_check == "always") o.branch_check = true;
  else if (branch_check == "never") o.branch_check = false;
  else return InvalidArgument(c.origin() + ": key integrate.branch_check must be \"always\" or \"never\"");
  PL_ASSIGN_OR_RETURN(o.base_recheck_s, c.IntOr("integrate.base_recheck_s", o.base_recheck_s));
  if (o.base_recheck_s < 1) return InvalidArgument(c.origin() + ": key integrate.base_recheck_s must be at least 1");
  PL_ASSIGN_OR_RETURN(o.integrate_mode, c.StringOr("integrate.mode", ""));
  return o;
}

Status ValidateOptions(const SchedulerOptions& o) {
  if (o.max_active < 1) return InvalidArgument("--max-active must be at least 1");
  if (o.reserve_cents < 0) return InvalidArgument("--reserve-cents must not be negative");
  if (o.max_cost_cents && *o.max_cost_cents < 0) return InvalidArgument("--max-cost must not be negative");
  if (o.max_retries < 1) return InvalidArgument("--max-retries must be at least 1");
  if (o.max_patchsets < 1) return InvalidArgument("scheduler.max_patchsets must be at least 1");
  if (o.max_task_cost_cents && *o.max_task_cost_cents < 0) return InvalidArgument("--max-task-cost must not be negative");
  if (o.backoff_base_s < 0) return InvalidArgument("scheduler.backoff_base_s must not be negative");
  if (o.interval_s <= 0) return InvalidArgument("--interval must be positive");
  if (o.external_timeout_s < 1) return InvalidArgument("scheduler.external_timeout_s must be at least 1");
  if (o.default_domain_max_active < 1) return InvalidArgument("scheduler.domain_max_active must be at least 1");
  for (const auto& [d, n] : o.domain_max_active)
    if (n < 0) return InvalidArgument("domains.\"" + d + "\".max_active must not be negative");
  if (o.timeout_s && *o.timeout_s < 1) return InvalidArgument("--timeout must be at least 1");
  if (o.max_iter && *o.max_iter < 1) return InvalidArgument("--max-iter must be at least 1");
  int ext = !o.task_cmd.empty() + !o.fund_cmd.empty() + !o.agentd_cmd.empty();
  if (ext != 0 && ext != 3)
    return InvalidArgument("--task-cmd, --fund-cmd and --agentd-cmd go together: give all three or none");
  if (o.task_id && o.task_id->empty()) return InvalidArgument("--task-id must not be empty");
  if (o.parent && o.parent->empty()) return InvalidArgument("--parent must not be empty");
  return Status::Ok();
}

std::string DomainFor(const SchedulerOptions& o, const std::string& ns) {
  for (const auto& r : o.domain_rules)
    if (fnmatch(r.match.c_str(), ns.c_str(), 0) == 0) return r.domain;
  return Trim(ns);
}

int64_t BackoffMicros(int64_t base_s, int64_t retries) {
  constexpr int64_t kCapS = 600;
  int64_t s = base_s;
  for (int64_t i = 0; i < retries && s < kCapS; ++i) s *= 2;
  if (s > kCapS) s = kCapS;
  return s * 1'000'000;
}

}  // namespace pipeline
