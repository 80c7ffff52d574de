#include "external/tools.h"

#include <nlohmann/json.hpp>

#include "util/text.h"

namespace pipeline {

ExternalTools::ExternalTools(const SchedulerOptions& options, ProcessRunner& runner) : o_(options), runner_(runner) {}

Result<CommandResult> ExternalTools::Call(const std::string& program, const std::vector<std::string>& args) {
  Command c;
  c.argv.push_back(program);
  c.argv.insert(c.argv.end(), args.begin(), args.end());
  c.timeout_ms = o_.external_timeout_s * 1000;
  c.max_output_bytes = 8 << 20;
  return runner_.Run(c);
}

Result<ReadyParse> ExternalTools::Ready() {
  PL_ASSIGN_OR_RETURN(CommandResult r, Call(o_.task_cmd, {"ready", "--json"}));
  if (r.timed_out) return TimedOut("task ready timed out");
  if (!r.exit.success())
    return Unavailable("task ready failed (exit " + std::to_string(r.exit.exit_code) + "): " +
                       SingleLine(TruncateUtf8(r.err, 200)));
  return ParseReadyTasks(r.out);
}

bool ExternalTools::Claim(const std::string& id, TaskStatus from, TaskStatus to) {
  auto r = Call(o_.task_cmd, {"claim", id, TaskStatusName(from), TaskStatusName(to), "--json"});
  return r.ok() && r->ok();
}

std::optional<std::string> ExternalTools::Show(const std::string& id) {
  auto r = Call(o_.task_cmd, {"show", id, "--json"});
  if (!r.ok() || !r->ok()) return std::nullopt;
  auto j = nlohmann::json::parse(Trim(r->out), nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);  // nlohmann objects keep keys sorted
}

bool ExternalTools::Comment(const std::string& id, const std::string& text) {
  auto r = Call(o_.task_cmd, {"comment", id, text, "--json"});
  return r.ok() && r->ok();
}

BudgetAnswer ExternalTools::CheckBudget(const std::string& domain, int64_t reserve) {
  const std::string R = std::to_string(reserve);
  const std::vector<std::vector<std::string>> forms = {
      {"check", "--domain", domain, "--reserve-cents", R, "--json"},
      {"budget", "--domain", domain, "--json"},
      {"available", "--domain", domain, "--json"},
      {"can-spend", "--domain", domain, "--cents", R, "--json"}};
  std::vector<std::string> tried;
  for (const auto& args : forms) {
    auto r = Call(o_.fund_cmd, args);
    if (!r.ok() || r->timed_out) {
      tried.push_back(args[0] + ": " + (r.ok() ? "timed out" : r.message()));
      continue;
    }
    const std::string& text = Trim(r->out).empty() ? r->err : r->out;
    BudgetAnswer a = ParseBudgetAnswer(text, reserve);
    if (a.verdict != BudgetVerdict::kNoAnswer) {
      a.reason = "fund " + args[0] + ": " + a.reason;
      return a;
    }
    tried.push_back(args[0] + ": " + a.reason + " (exit " + std::to_string(r->exit.exit_code) + ")");
  }
  std::string why = "no fund form answered:";
  for (const auto& t : tried) why += " " + t + ";";
  return BudgetAnswer{BudgetVerdict::kDenied, why};
}

std::optional<std::string> ExternalTools::Spend(const std::string& domain, const std::string& task_id,
                                                const std::string& run_id, int64_t cents,
                                                const std::function<bool()>& before_fallback) {
  const std::string C = std::to_string(cents);
  auto r = Call(o_.fund_cmd, {"spend", "--domain", domain, "--task-id", task_id, "--run-id", run_id, "--cents", C,
                              "--json"});
  if (r.ok() && r->ok()) return "spend";
  if (r.ok() && r->timed_out) return std::nullopt;  // it may have been recorded: never fall back to a blind form
  if (!before_fallback()) return std::nullopt;
  r = Call(o_.fund_cmd, {"debit", "--domain", domain, "--cents", C, "--json"});
  if (r.ok() && r->ok()) return "debit";
  if (r.ok() && r->timed_out) return "debit?";
  r = Call(o_.fund_cmd, {"record", "--domain", domain, "--cost-cents", C, "--task-id", task_id, "--json"});
  if (r.ok() && r->ok()) return "record";
  if (r.ok() && r->timed_out) return "record?";
  return std::nullopt;
}

Status ExternalTools::AgentRun(const std::string& prompt_path, const std::string& run_id) {
  std::vector<std::string> args = {"run", prompt_path, "-n", run_id};
  if (o_.timeout_s) args.insert(args.end(), {"--timeout", std::to_string(*o_.timeout_s)});
  if (o_.max_iter) args.insert(args.end(), {"--max-iter", std::to_string(*o_.max_iter)});
  args.insert(args.end(), {"--max-cost", std::to_string(o_.MaxCostCents())});
  PL_ASSIGN_OR_RETURN(CommandResult r, Call(o_.agentd_cmd, args));
  if (r.timed_out) return TimedOut("agentd run timed out");
  if (!r.exit.success())
    return Unavailable("agentd run failed (exit " + std::to_string(r.exit.exit_code) + "): " +
                       SingleLine(TruncateUtf8(r.err + r.out, 300)));
  return Status::Ok();
}

AgentStatusAnswer ExternalTools::AgentStatus(const std::string& run_id) {
  auto r = Call(o_.agentd_cmd, {"status", run_id, "--json"});
  if (!r.ok()) {
    AgentStatusAnswer a;
    a.reason = "agentd status could not start: " + r.message();
    return a;
  }
  if (r->timed_out) {
    AgentStatusAnswer a;
    a.reason = "agentd status timed out";
    return a;
  }
  return ParseAgentStatus(r->out, r->exit.exit_code);
}

}  // namespace pipeline
