// `pipeline doctor`: every check `pipeline run` makes before it starts, each
// printed as ok / note / warning / problem. Exit 0 when nothing stops a run,
// 2 when something does (the same rule as `pipeline run`).
#include <cstdio>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/preflight_report.h"
#include "slurm/doctor.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline {

int DoctorCommand(const Args& args) {
  CLI::App app("Check the configuration and the repository before the first run", "pipeline doctor");
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  if (auto rc = ParseArgs(app, args)) return *rc;

  std::vector<CheckResult> results;
  auto setup = LoadSchedulerSetup(flags.root);
  int64_t default_budget = 0;
  if (setup.ok()) {
    results.push_back({"config", CheckLevel::kOk, setup->paths.config()});
    auto budget = setup->config.IntOr("fund.default_budget_cents", 0);
    if (budget.ok()) default_budget = *budget;
    Status valid = ValidateOptions(setup->options);
    if (!valid.ok()) results.push_back({"config", CheckLevel::kProblem, valid.message()});
    for (auto& r : PreflightFor(*setup, setup->options, default_budget)) results.push_back(std::move(r));
    // [executor] kind = "slurm": the cluster, its partitions, the shared directory.
    for (auto& r : slurm::ClusterDoctorChecks(setup->config, setup->paths, SelfExePath())) results.push_back(std::move(r));
  } else if (setup.kind() == ErrorKind::kInvalidArgument) {
    results.push_back({"config", CheckLevel::kProblem, setup.message()});  // the rest needs a readable config
  } else {
    return Fail(setup.error());  // no store: `pipeline init` first
  }

  if (flags.json) {
    nlohmann::json checks = nlohmann::json::array();
    for (const auto& r : results)
      checks.push_back({{"check", r.check}, {"level", CheckLevelName(r.level)}, {"message", r.message}});
    PrintJson({{"ok", !HasProblem(results)}, {"checks", checks}});
  } else {
    for (const auto& r : results)
      printf("%-8s %-10s %s\n", CheckLevelName(r.level), r.check.c_str(), SingleLine(r.message).c_str());
    printf("%s\n", HasProblem(results) ? "pipeline run would refuse to start: fix the problems above"
                                       : "ready: pipeline run can start");
  }
  return HasProblem(results) ? 2 : 0;
}

}  // namespace pipeline
