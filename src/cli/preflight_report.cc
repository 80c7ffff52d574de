#include "cli/preflight_report.h"

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
    const char* prefix = r.level == CheckLevel::kProblem ? "" : r.level == CheckLevel::kWarning ? "warning: " : "";
    fprintf(stderr, "pipeline: %s%s\n", prefix, SingleLine(r.message).c_str());
  }
  if (!HasProblem(results)) return 0;
  fprintf(stderr, "pipeline: nothing was started (`pipeline doctor` shows every check)\n");
  return 2;
}

}  // namespace pipeline
