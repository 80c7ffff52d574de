#include "cli/preflight_report.h"

#include "util/log.h"
#include "util/text.h"

namespace pipeline {

std::vector<CheckResult> PreflightFor(const SchedulerSetup& setup, const SchedulerOptions& options,
                                      int64_t default_budget_cents) {
  PreflightInput in;
  in.paths = &setup.paths;
  in.config = &setup.config;
  in.options = &options;
  in.default_budget_cents = default_budget_cents;
  auto db = Db::OpenReadOnly(setup.paths.db());
  if (db.ok()) in.db = db->get();
  std::vector<CheckResult> out = RunPreflight(in);
  if (!db.ok()) out.push_back({"budget", CheckLevel::kWarning, "cannot read the store: " + db.message()});
  return out;
}

int ReportBeforeRun(const std::vector<CheckResult>& results) {
  for (const auto& r : results) {
    if (r.level == CheckLevel::kOk) continue;
    if (r.level == CheckLevel::kWarning) LogWarning("{}", r.message);
    else Log("{}", r.message);
  }
  if (!HasProblem(results)) return 0;
  Log("nothing was started (`pipeline doctor` shows every check)");
  return 2;
}

}  // namespace pipeline
