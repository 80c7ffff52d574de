// Reading the answers of external `task`, `fund` and `agentd` programs
// (docs/protocol.md), tolerant of their spellings but without the
// seed's failure modes: nothing here fails open (an answer with no recognised
// field is no answer, never "allowed"), an undecodable agentd status keeps the
// run instead of finalising it with cost 0, and one bad task in `task ready`
// drops that task, not the whole list. Pure functions: no processes, no IO.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace pipeline {

// One element of `task ready --json`.
struct ExternalTask {
  std::string id;
  std::optional<std::string> ns, title, status;
};

struct ReadyParse {
  std::vector<ExternalTask> tasks;
  std::vector<std::string> skipped;  // one reason per element that was not a usable task
};

// A top-level array of objects, or an object wrapping one under "tasks".
// Elements without a string (or integer) taskId are skipped with a reason.
// kInvalidArgument when the text is not JSON or holds no array at all.
Result<ReadyParse> ParseReadyTasks(const std::string& text);

// The seed's open filter: a missing status, or one that normalises to "open".
bool ExternalTaskIsOpen(const ExternalTask& t);

enum class BudgetVerdict { kAllowed, kDenied, kNoAnswer };

struct BudgetAnswer {
  BudgetVerdict verdict = BudgetVerdict::kNoAnswer;
  std::string reason;  // what was read, for the log and for `status`
};

// One fund check answer, against the reserve R in cents. Rules (each keeps a
// check from failing open; docs/protocol.md, "A check never fails open"):
//  * an amount (remaining_cents, available_cents, budget_remaining_cents,
//    remaining, balance_cents, or a numeric `available`) is compared to R, and
//    a present amount below R denies whatever the boolean keys say;
//  * boolean keys (available, allowed, allow, ok, has_budget, can_spend) are
//    all read: any false denies, else any true allows;
//  * bare JSON scalars are answers: true/false, a number (an amount), a string
//    read as a loose boolean or a number;
//  * non-JSON text: a loose boolean word (yes/no/ok/deny...) or a number;
//  * only the top level of an object is read (a nested "limits.remaining"
//    may mean anything);
//  * anything else (help text, {}, null) is no answer.
BudgetAnswer ParseBudgetAnswer(const std::string& text, int64_t reserve_cents);

enum class AgentState { kRunning, kEnded, kUnknown };

struct AgentStatusAnswer {
  AgentState state = AgentState::kUnknown;
  std::string status;  // as normalised: "done", "failed", "timeout", ... (kEnded only)
  double cost_cents = 0;
  std::optional<std::string> error;
  std::string reason;  // why it is kUnknown
};

// One `agentd status RUN --json` answer. Non-terminal phases (running, queued,
// starting, in_progress, pending) keep the run; known terminal statuses end
// it; everything else (missing status, unknown words, undecodable output,
// a failed call) is kUnknown, and the caller asks again later.
// cost_cents may be a number or a numeric string; error may be any JSON value.
AgentStatusAnswer ParseAgentStatus(const std::string& stdout_text, int exit_code);

}  // namespace pipeline
