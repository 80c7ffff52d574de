#include "serve/metrics.h"

#include <fmt/format.h>

#include <vector>

#include "ledger/ledger.h"
#include "tasks/task_queries.h"

namespace pipeline::serve {

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

namespace {

void Header(std::string* out, const char* name, const char* type, const char* help) {
  *out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

Result<std::string> MetricsText(Db& db, Clock& clock) {
  std::string out;
  Status st = db.Read([&]() -> Status {
    Header(&out, "pipeline_tasks", "gauge", "Tasks by state.");
    std::map<std::string, int64_t> by_state;
    for (TaskStatus s : kAllTaskStatuses) by_state[TaskStatusName(s)] = 0;
    PL_ASSIGN_OR_RETURN(auto task_counts, CountTasksByStatus(db, /*with_epics=*/true));
    for (const auto& [status, n] : task_counts) by_state[TaskStatusName(status)] = n;
    for (const auto& [state, n] : by_state) out += fmt::format("pipeline_tasks{{state=\"{}\"}} {}\n", EscapeLabel(state), n);

    Header(&out, "pipeline_runs_total", "counter", "Runs by phase and outcome (state).");
    PL_ASSIGN_OR_RETURN(Stmt r, db.Prepare("SELECT phase, status, COUNT(*) FROM runs GROUP BY phase, status"));
    PL_RETURN_IF_ERROR(EachRow(r, [&](Stmt& row) {
      out += fmt::format("pipeline_runs_total{{phase=\"{}\",outcome=\"{}\"}} {}\n", EscapeLabel(row.Text(0)),
                         EscapeLabel(row.Text(1)), row.Int(2));
    }));

    Ledger ledger(db, clock, 0);
    PL_ASSIGN_OR_RETURN(auto reports, ledger.Report());
    Header(&out, "pipeline_cost_cents_total", "counter", "Money spent per domain, in cents.");
    for (const auto& d : reports)
      out += fmt::format("pipeline_cost_cents_total{{domain=\"{}\"}} {}\n", EscapeLabel(d.domain), d.spent_cents);
    Header(&out, "pipeline_budget_remaining_cents", "gauge", "Budget left per domain (budget - spent - held), in cents.");
    for (const auto& d : reports)
      out += fmt::format("pipeline_budget_remaining_cents{{domain=\"{}\"}} {}\n", EscapeLabel(d.domain),
                         d.remaining_cents);
    Header(&out, "pipeline_budget_held_cents", "gauge", "Budget held by running work per domain, in cents.");
    for (const auto& d : reports)
      out += fmt::format("pipeline_budget_held_cents{{domain=\"{}\"}} {}\n", EscapeLabel(d.domain), d.held_cents);

    Header(&out, "pipeline_queue_length", "gauge", "Tasks waiting: dev (open work) and merge (verified).");
    PL_ASSIGN_OR_RETURN(auto work, CountTasksByStatus(db, /*with_epics=*/false));
    out += fmt::format("pipeline_queue_length{{queue=\"dev\"}} {}\n", work[TaskStatus::kOpen]);
    out += fmt::format("pipeline_queue_length{{queue=\"merge\"}} {}\n", work[TaskStatus::kVerified]);

    // Checks: verify and integrate runs that ran to an end.
    static const std::vector<double> kBuckets = {1, 5, 15, 30, 60, 120, 300, 600, 1800};
    std::map<std::string, std::vector<int64_t>> counts;
    std::map<std::string, double> sums;
    PL_ASSIGN_OR_RETURN(Stmt c, db.Prepare(
        "SELECT phase, (ended_at - started_at) / 1e6 FROM runs WHERE phase IN ('verify', 'integrate') "
        "AND started_at IS NOT NULL AND ended_at IS NOT NULL"));
    for (const char* phase : {"verify", "integrate"}) {
      counts[phase].assign(kBuckets.size() + 1, 0);
      sums[phase] = 0;
    }
    PL_RETURN_IF_ERROR(EachRow(c, [&](Stmt& row) {
      auto& v = counts[row.Text(0)];
      double secs = row.Double(1);
      sums[row.Text(0)] += secs;
      size_t i = 0;
      while (i < kBuckets.size() && secs > kBuckets[i]) ++i;
      ++v[i];
    }));
    Header(&out, "pipeline_check_duration_seconds", "histogram", "Duration of check runs (verify, integrate).");
    for (const auto& [phase, v] : counts) {
      int64_t cum = 0;
      for (size_t i = 0; i < kBuckets.size(); ++i) {
        cum += v[i];
        out += fmt::format("pipeline_check_duration_seconds_bucket{{phase=\"{}\",le=\"{}\"}} {}\n", phase,
                           kBuckets[i], cum);
      }
      cum += v.back();
      out += fmt::format("pipeline_check_duration_seconds_bucket{{phase=\"{}\",le=\"+Inf\"}} {}\n", phase, cum);
      out += fmt::format("pipeline_check_duration_seconds_sum{{phase=\"{}\"}} {}\n", phase, sums[phase]);
      out += fmt::format("pipeline_check_duration_seconds_count{{phase=\"{}\"}} {}\n", phase, cum);
    }
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return out;
}

}  // namespace pipeline::serve
