#include "serve/steering.h"

#include "agent/launcher.h"
#include "agent/run_store.h"
#include "ledger/ledger.h"
#include "ledger/money.h"
#include "sched/review_gate.h"
#include "sched/sched_sql.h"
#include "tasks/domain_pause.h"
#include "tasks/task_store.h"
#include "util/text.h"

namespace pipeline::serve {

using nlohmann::json;

namespace {

constexpr const char* kAuthor = "human";

Status RequireObject(const json& body) {
  if (!body.is_object()) return InvalidArgument("the request body must be a JSON object");
  return Status::Ok();
}

// Refuses keys the action does not know: a typo must not be silently ignored.
Status OnlyKeys(const json& body, std::initializer_list<const char*> keys) {
  PL_RETURN_IF_ERROR(RequireObject(body));
  for (const auto& [k, v] : body.items()) {
    bool known = false;
    for (const char* key : keys) known = known || k == key;
    if (!known) return InvalidArgument("unknown field " + Quoted(k));
  }
  return Status::Ok();
}

Result<std::optional<std::string>> OptString(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return InvalidArgument(std::string(key) + " must be a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::string> RequiredString(const json& body, const char* key) {
  PL_ASSIGN_OR_RETURN(auto v, OptString(body, key));
  if (!v || Trim(*v).empty()) return InvalidArgument(std::string(key) + " is required");
  return *v;
}

Result<std::vector<std::string>> StringList(const json& body, const char* key) {
  std::vector<std::string> out;
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_array()) return InvalidArgument(std::string(key) + " must be an array of strings");
  for (const auto& v : *it) {
    if (!v.is_string()) return InvalidArgument(std::string(key) + " must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<json> TaskJson(Db& db, Clock& clock, const std::string& id) {
  TaskStore store(db, clock);
  PL_ASSIGN_OR_RETURN(Task t, store.Get(id));
  json j = TaskToJson(t);
  j["status"] = TaskStatusName(t.status);
  return j;
}

}  // namespace

Result<std::vector<LineComment>> ParseLineComments(const json& j) {
  std::vector<LineComment> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return InvalidArgument("line_comments must be an array");
  if (j.size() > 1000) return InvalidArgument("more than 1000 line comments");
  for (const auto& c : j) {
    PL_RETURN_IF_ERROR(OnlyKeys(c, {"file", "line", "text"}));
    LineComment lc;
    PL_ASSIGN_OR_RETURN(lc.file, RequiredString(c, "file"));
    PL_ASSIGN_OR_RETURN(lc.text, RequiredString(c, "text"));
    PL_RETURN_IF_ERROR(ValidateLine("line comment file", lc.file));
    PL_RETURN_IF_ERROR(ValidateText("line comment", lc.text));
    auto line = c.find("line");
    if (line == c.end() || !line->is_number_integer() || line->get<int64_t>() < 0)
      return InvalidArgument("line comment line must be a non-negative integer");
    lc.line = line->get<int64_t>();
    out.push_back(std::move(lc));
  }
  return out;
}

std::string FeedbackText(const std::string& why, const std::vector<LineComment>& lines) {
  std::string s = Trim(why);
  if (lines.empty()) return s;
  if (s.empty()) s = "Review comments on the diff";
  s += "\n\nComments on lines of the diff:\n";
  for (const auto& c : lines) s += "- " + c.file + ":" + std::to_string(c.line) + ": " + c.text + "\n";
  return s;
}

Result<json> CreateTaskAction(Db& db, Clock& clock, const json& body) {
  PL_RETURN_IF_ERROR(OnlyKeys(body, {"title", "description", "namespace", "priority", "deps", "tags", "parent",
                                     "type", "complexity"}));
  NewTask n;
  PL_ASSIGN_OR_RETURN(n.title, RequiredString(body, "title"));
  PL_ASSIGN_OR_RETURN(auto desc, OptString(body, "description"));
  n.description = desc.value_or("");
  PL_ASSIGN_OR_RETURN(n.ns, OptString(body, "namespace"));
  if (n.ns && Trim(*n.ns).empty()) n.ns.reset();
  PL_ASSIGN_OR_RETURN(n.parent, OptString(body, "parent"));
  PL_ASSIGN_OR_RETURN(n.deps, StringList(body, "deps"));
  PL_ASSIGN_OR_RETURN(n.tags, StringList(body, "tags"));
  if (auto it = body.find("priority"); it != body.end() && !it->is_null()) {
    std::optional<int> p;
    if (it->is_number_integer()) p = ParseTaskPriority(std::to_string(it->get<int64_t>()));
    else if (it->is_string()) p = ParseTaskPriority(it->get<std::string>());
    if (!p) return InvalidArgument("invalid priority (P0..P4 or 0..4)");
    n.priority = *p;
  }
  PL_ASSIGN_OR_RETURN(auto type, OptString(body, "type"));
  if (type) {
    auto t = ParseTaskType(*type);
    if (!t) return InvalidArgument("invalid type " + Quoted(*type) + " (work or epic)");
    n.type = *t;
  }
  if (auto it = body.find("complexity"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 5)
      return InvalidArgument("invalid complexity (1..5)");
    n.complexity = it->get<int>();
  }
  TaskStore store(db, clock);
  PL_ASSIGN_OR_RETURN(Task t, store.Create(n));
  json j = TaskToJson(t);
  j["status"] = TaskStatusName(t.status);
  return j;
}

Result<json> CommentAction(Db& db, Clock& clock, const std::string& id, const json& body) {
  PL_RETURN_IF_ERROR(OnlyKeys(body, {"text"}));
  PL_ASSIGN_OR_RETURN(std::string text, RequiredString(body, "text"));
  TaskStore store(db, clock);
  PL_RETURN_IF_ERROR(store.AddComment(id, text, kAuthor).status());
  return TaskJson(db, clock, id);
}

Result<json> ApproveAction(Db& db, Clock& clock, const std::string& id, const json& body) {
  PL_RETURN_IF_ERROR(OnlyKeys(body, {"comment"}));
  PL_ASSIGN_OR_RETURN(auto comment, OptString(body, "comment"));
  if (comment) PL_RETURN_IF_ERROR(ValidateText("comment", *comment));
  Status st = db.Write([&]() -> Status {
    PL_RETURN_IF_ERROR(ApproveTask(db, clock, id, kAuthor).status());
    if (comment && !Trim(*comment).empty())
      PL_RETURN_IF_ERROR(TaskStore(db, clock).AddComment(id, *comment, kAuthor).status());
    return Status::Ok();
  });
  PL_RETURN_IF_ERROR(st);
  return TaskJson(db, clock, id);
}

Result<json> RejectAction(Db& db, Clock& clock, const std::string& id, const json& body) {
  PL_RETURN_IF_ERROR(OnlyKeys(body, {"why", "line_comments"}));
  PL_ASSIGN_OR_RETURN(auto why, OptString(body, "why"));
  PL_ASSIGN_OR_RETURN(auto lines, ParseLineComments(body.value("line_comments", json())));
  if ((!why || Trim(*why).empty()) && lines.empty())
    return InvalidArgument("say why (why) or comment on lines of the diff (line_comments)");
  if (why) PL_RETURN_IF_ERROR(ValidateText("why", *why));
  PL_RETURN_IF_ERROR(RejectTask(db, clock, id, FeedbackText(why.value_or(""), lines), kAuthor).status());
  return TaskJson(db, clock, id);
}

Result<json> RetryAction(Db& db, Clock& clock, const std::string& id) {
  Status st = db.Write([&]() -> Status {
    PL_ASSIGN_OR_RETURN(auto status, TaskStatusOf(db, id));
    if (!status) return NotFound("no task " + Quoted(id));
    if (*status != TaskStatus::kNeedsHelp && *status != TaskStatus::kOpen)
      return Refused("task " + id + " is " + TaskStatusName(*status) +
                     "; only a needs-help or open task can be retried");
    Micros now = clock.Now();
    PL_ASSIGN_OR_RETURN(bool moved, MoveTaskForRetry(db, id, *status, TaskStatus::kOpen, 0, 0, now));
    if (!moved) return Conflict("task " + id + " changed meanwhile; try again");
    PL_RETURN_IF_ERROR(TaskStore(db, clock).AddComment(id, "Retry requested by a person: re-opened for dev", "system").status());
    return AddEvent(db, now, id, std::nullopt, "retry", "retry requested");
  });
  PL_RETURN_IF_ERROR(st);
  return TaskJson(db, clock, id);
}

Result<json> CancelAction(Db& db, Clock& clock, const ServeContext& ctx, const std::string& id) {
  std::vector<std::string> active;
  Status st = db.Write([&]() -> Status {
    PL_ASSIGN_OR_RETURN(auto status, TaskStatusOf(db, id));
    if (!status) return NotFound("no task " + Quoted(id));
    std::optional<TaskStatus> from = *status;
    const std::string was = TaskStatusName(*status);
    if (*from == TaskStatus::kDone || *from == TaskStatus::kNeedsHelp)
      return Refused("task " + id + " is " + was + "; nothing to cancel");
    PL_RETURN_IF_ERROR(TaskStore(db, clock).Claim(id, *from, TaskStatus::kNeedsHelp));
    PL_RETURN_IF_ERROR(TaskStore(db, clock)
                           .AddComment(id, "Cancelled by a person (was " + was +
                                               "): parked in needs-help; retry or answer to resume", "system")
                           .status());
    PL_RETURN_IF_ERROR(AddEvent(db, clock.Now(), id, std::nullopt, "cancel", "cancelled (was " + was + ")"));
    Stmt& s = db.Cached("SELECT run_id FROM runs WHERE task_id = ? AND status IN ('starting', 'running')");
    s.BindAll(id);
    PL_ASSIGN_OR_RETURN(active, s.TextColumn());
    return Status::Ok();
  });
  PL_RETURN_IF_ERROR(st);
  // After the commit, as `agent kill` does: the harvest then finds the task
  // no longer in progress and leaves it where it is.
  json killed = json::array();
  for (const auto& run_id : active)
    if (RequestKill(db, ctx.paths, run_id).ok()) killed.push_back(run_id);
  PL_ASSIGN_OR_RETURN(json j, TaskJson(db, clock, id));
  j["killed_runs"] = killed;
  return j;
}

Result<json> PauseAction(Db& db, Clock& clock, const std::string& domain, bool pause) {
  PL_RETURN_IF_ERROR(pause ? PauseDomain(db, clock, domain, kAuthor) : ResumeDomain(db, domain));
  return json{{"domain", domain}, {"paused", pause}};
}

Result<json> GrantAction(Db& db, Clock& clock, const ServeContext& ctx, const std::string& domain, const json& body) {
  PL_RETURN_IF_ERROR(OnlyKeys(body, {"cents"}));
  PL_RETURN_IF_ERROR(ValidateName(domain, "domain"));
  auto it = body.find("cents");
  if (it == body.end() || !it->is_number_integer()) return InvalidArgument("cents must be an integer");
  int64_t cents = it->get<int64_t>();
  if (cents <= 0) return InvalidArgument("cents must be positive");
  PL_RETURN_IF_ERROR(CheckCents(cents, "cents"));
  Ledger ledger(db, clock, ctx.default_budget_cents);
  PL_RETURN_IF_ERROR(ledger.Grant(domain, cents));
  PL_ASSIGN_OR_RETURN(DomainReport d, ledger.Check(domain));
  return json{{"domain", d.domain},         {"budget_cents", d.budget_cents},
              {"held_cents", d.held_cents}, {"spent_cents", d.spent_cents},
              {"remaining_cents", d.remaining_cents}};
}

}  // namespace pipeline::serve
