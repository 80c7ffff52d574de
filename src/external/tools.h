// Calls to external `task`, `fund` and `agentd` programs, one argv each
// (argv[1] the subcommand, `--json` last, stdin empty), with a deadline on
// every call: a child that hangs or keeps its pipes open is killed with its
// process group when the deadline passes (docs/protocol.md, "Every call has a
// deadline"). Answers are read with external/parse.h. Used by one thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "proc/process.h"
#include "external/parse.h"
#include "sched/scheduler_options.h"
#include "tasks/task.h"

namespace pipeline {

class ExternalTools {
 public:
  ExternalTools(const SchedulerOptions& options, ProcessRunner& runner);

  // The raw call. An error only when the program could not be started.
  Result<CommandResult> Call(const std::string& program, const std::vector<std::string>& args);

  Result<ReadyParse> Ready();
  bool Claim(const std::string& id, TaskStatus from, TaskStatus to);
  // `task show` re-encoded compactly with sorted keys, or nullopt.
  std::optional<std::string> Show(const std::string& id);
  bool Comment(const std::string& id, const std::string& text);

  // The four check forms in order; the first form that gives an answer
  // decides. No answer from any form: denied (never fail-open).
  BudgetAnswer CheckBudget(const std::string& domain, int64_t reserve_cents);
  // The three spend forms in order until one exits 0; returns the form's
  // name, or nullopt when all failed. before_fallback is called before the
  // first form that carries no run id (debit/record), so the caller can
  // record "charging" first: a crash then loses at most that record.
  std::optional<std::string> Spend(const std::string& domain, const std::string& task_id, const std::string& run_id,
                                   int64_t cents, const std::function<bool()>& before_fallback);

  // `agentd run PROMPT -n RUN [--timeout S] [--max-iter N] [--max-cost C]`: exit 0 = started.
  Status AgentRun(const std::string& prompt_path, const std::string& run_id);
  AgentStatusAnswer AgentStatus(const std::string& run_id);

 private:
  const SchedulerOptions& o_;
  ProcessRunner& runner_;
};

}  // namespace pipeline
