// The write side of the API: every action goes through the function the CLI
// handler for it calls (TaskStore, the review gate, the ledger, the
// scheduler's compare-and-set moves), so the dashboard cannot do anything the
// CLI could not, nor do it differently. Each validates all its input before
// it touches the store, and is one transaction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/context.h"
#include "store/db.h"
#include "util/clock.h"
#include "util/status.h"

namespace pipeline::serve {

// A reviewer's comment on one line of the task's diff.
struct LineComment {
  std::string file;
  int64_t line = 0;
  std::string text;
};

// Parses [{"file": "...", "line": N, "text": "..."}, ...] strictly.
Result<std::vector<LineComment>> ParseLineComments(const nlohmann::json& j);

// The feedback text the next attempt gets: the reason, then each line
// comment as "- file:line: text".
std::string FeedbackText(const std::string& why, const std::vector<LineComment>& lines);

// POST /api/tasks: {title, description?, namespace?, priority?, deps?, tags?, parent?, type?}.
Result<nlohmann::json> CreateTaskAction(Db& db, Clock& clock, const nlohmann::json& body);
// POST /api/tasks/{id}/comment: {text}: a human comment, as `task comment`. On a
// needs-help task this is the answer: the scheduler reopens it.
Result<nlohmann::json> CommentAction(Db& db, Clock& clock, const std::string& id, const nlohmann::json& body);
// POST /api/tasks/{id}/approve: {comment?}: `review approve`.
Result<nlohmann::json> ApproveAction(Db& db, Clock& clock, const std::string& id, const nlohmann::json& body);
// POST /api/tasks/{id}/reject: {why, line_comments?}: `review reject` with the
// line comments folded into the one feedback text.
Result<nlohmann::json> RejectAction(Db& db, Clock& clock, const std::string& id, const nlohmann::json& body);
// POST /api/tasks/{id}/retry: a needs-help (or backed-off open) task goes
// back to open now, its retry count reset.
Result<nlohmann::json> RetryAction(Db& db, Clock& clock, const std::string& id);
// POST /api/tasks/{id}/cancel: the task is parked in needs-help (from open,
// in-progress, review or verified) and its active runs are stopped as
// `agent kill` stops them.
Result<nlohmann::json> CancelAction(Db& db, Clock& clock, const ServeContext& ctx, const std::string& id);
// POST /api/domains/{domain}/pause and /resume.
Result<nlohmann::json> PauseAction(Db& db, Clock& clock, const std::string& domain, bool pause);
// POST /api/budgets/{domain}/grant: {cents}: `fund grant`.
Result<nlohmann::json> GrantAction(Db& db, Clock& clock, const ServeContext& ctx, const std::string& domain,
                                   const nlohmann::json& body);

}  // namespace pipeline::serve
