// GET /api/tasks/{id}: one task with everything a reviewer needs on one page.
#include <algorithm>
#include <vector>

#include "agent/run_store.h"
#include "git/paths.h"
#include "proc/process.h"
#include "serve/views.h"
#include "tasks/task_store.h"
#include "util/text.h"

namespace pipeline::serve {

using nlohmann::json;

namespace {

// `git diff base...branch` (what the branch changed since it left the base),
// run from argv in the repository, capped at max_bytes.
json BranchDiff(const ServeContext& ctx, const std::string& id, size_t max_bytes) {
  json d = {{"base", ctx.base}};
  auto branch = TaskBranch(id);
  if (!branch.ok()) {
    d["error"] = branch.error().message;
    return d;
  }
  d["branch"] = *branch;
  if (ctx.base.empty()) {
    d["error"] = "no base branch (set scheduler.base)";
    return d;
  }
  Command c;
  c.argv = {"git", "diff", "--no-color", "--no-ext-diff", ctx.base + "..." + *branch, "--"};
  c.cwd = ctx.paths.repo();
  c.timeout_ms = 20000;
  c.max_output_bytes = max_bytes + 1;
  auto r = RealProcessRunner().Run(c);
  if (!r.ok()) {
    d["error"] = r.error().message;
    return d;
  }
  if (!r->ok()) {
    // Most often: the branch does not exist yet (no run has committed).
    std::string err = r->err.substr(0, r->err.find('\n'));
    d["error"] = err.empty() ? "git diff failed" : err;
    return d;
  }
  d["truncated"] = r->out.size() > max_bytes;
  if (r->out.size() > max_bytes) r->out.resize(max_bytes);
  d["text"] = r->out;
  return d;
}

}  // namespace

Result<json> TaskDetailView(Db& db, const ServeContext& ctx, const std::string& id, size_t max_diff_bytes) {
  json j;
  Status st = db.Read([&]() -> Status {
    TaskStore store(db, SystemClock());
    PL_ASSIGN_OR_RETURN(Task t, store.Get(id));
    j["task"] = TaskToJson(t);
    j["status"] = TaskStatusName(t.status);
    j["retries"] = t.retries;
    j["patchset"] = t.patchset;
    j["feedback"] = t.feedback ? json(*t.feedback) : json(nullptr);
    if (t.not_before > SystemClock().Now())
      j["backoff_s"] = static_cast<double>(t.not_before - SystemClock().Now()) / 1e6;

    // The timeline: comments and the scheduler's events, by time.
    std::vector<json> timeline;
    std::optional<std::string> question;
    for (const Comment& c : t.comments) {
      timeline.push_back({{"at_us", c.created_at}, {"at", FormatIso8601(c.created_at)}, {"kind", "comment"},
                          {"author", c.author}, {"text", c.text}});
      if (StartsWith(c.author, "agent:")) question = c.text;
      else if (c.author == "human") question.reset();
    }
    PL_ASSIGN_OR_RETURN(Stmt e, db.Prepare(
        "SELECT at, run_id, kind, detail FROM events WHERE task_id = ? ORDER BY id"));
    e.BindAll(id);
    while (true) {
      PL_ASSIGN_OR_RETURN(bool row, e.Step());
      if (!row) break;
      timeline.push_back({{"at_us", e.Int(0)}, {"at", FormatIso8601(e.Int(0))}, {"kind", "event"},
                          {"event", e.Text(2)}, {"run_id", e.OptText(1).value_or("")},
                          {"text", e.OptText(3).value_or("")}});
    }
    std::stable_sort(timeline.begin(), timeline.end(),
                     [](const json& a, const json& b) { return a["at_us"].get<int64_t>() < b["at_us"].get<int64_t>(); });
    j["timeline"] = std::move(timeline);
    j["question"] = t.status == TaskStatus::kNeedsHelp && question ? json(*question) : json(nullptr);

    json runs = json::array();
    double cost = 0;
    PL_ASSIGN_OR_RETURN(Stmt r, db.Prepare(
        "SELECT run_id, phase, patchset, status, cost_cents, turns, created_at, ended_at, error "
        "FROM runs WHERE task_id = ? ORDER BY created_at"));
    r.BindAll(id);
    while (true) {
      PL_ASSIGN_OR_RETURN(bool row, r.Step());
      if (!row) break;
      cost += r.Double(4);
      runs.push_back({{"run_id", r.Text(0)}, {"phase", r.Text(1)}, {"patchset", r.Int(2)}, {"state", r.Text(3)},
                      {"cost_cents", r.Double(4)}, {"turns", r.Int(5)}, {"created_at", FormatIso8601(r.Int(6))},
                      {"ended_at", r.OptInt(7) ? json(FormatIso8601(*r.OptInt(7))) : json(nullptr)},
                      {"error", r.OptText(8) ? json(*r.OptText(8)) : json(nullptr)}});
    }
    j["runs"] = runs;
    j["cost_cents"] = cost;
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  // Outside the read transaction: git may take a while.
  j["diff"] = BranchDiff(ctx, id, max_diff_bytes);
  return j;
}

}  // namespace pipeline::serve
