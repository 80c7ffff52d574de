#include "tasks/task.h"

#include <set>

#include "util/text.h"

namespace pipeline {

namespace {

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

}  // namespace

const char* TaskStatusName(TaskStatus s) {
  switch (s) {
    case TaskStatus::kOpen: return "open";
    case TaskStatus::kInProgress: return "in-progress";
    case TaskStatus::kNeedsHelp: return "needs-help";
    case TaskStatus::kReview: return "review";
    case TaskStatus::kVerified: return "verified";
    case TaskStatus::kDone: return "done";
  }
  return "open";
}

std::optional<TaskStatus> ParseTaskStatus(std::string_view s) {
  std::string n = NormalizeLabel(s);
  for (TaskStatus st : kAllTaskStatuses)
    if (n == NormalizeLabel(TaskStatusName(st))) return st;
  return std::nullopt;
}

std::optional<int> ParseTaskPriority(std::string_view s) {
  if (s.size() == 2 && (s[0] == 'P' || s[0] == 'p')) s.remove_prefix(1);
  if (s.size() == 1 && s[0] >= '0' && s[0] <= '4') return s[0] - '0';
  return std::nullopt;
}

std::optional<std::string> ParseTaskType(std::string_view s) {
  std::string n = NormalizeLabel(s);
  if (n == "work" || n == "worktask") return "work";
  if (n == "epic" || n == "epictask") return "epic";
  return std::nullopt;
}

Status ValidateTaskId(std::string_view id) {
  bool ok = !id.empty() && id.size() <= 64 && id[0] != '.' && id[0] != '_' && id[0] != '-' &&
            id.find("..") == std::string_view::npos;
  for (char c : id) ok = ok && IsIdChar(c);
  if (ok) return Status::Ok();
  return InvalidArgument("invalid task id " + Quoted(id) +
                         ": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, no \"..\"");
}

Status ValidateAuthor(std::string_view author) {
  if (author == "human" || author == "system") return Status::Ok();
  if (StartsWith(author, "agent:") && author.size() > 6) {
    bool ok = true;
    for (char c : author.substr(6)) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
    if (ok) return Status::Ok();
  }
  return InvalidArgument("invalid comment author " + Quoted(author) +
                         ": use \"human\", \"system\" or \"agent:<role>\" (role: a-z 0-9 _ -)");
}

Status ValidateLine(std::string_view what, std::string_view s) {
  if (!IsValidUtf8(s)) return InvalidArgument(std::string(what) + " is not valid UTF-8");
  if (Trim(s).empty()) return InvalidArgument(std::string(what) + " is empty");
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return InvalidArgument(std::string(what) + " contains a control character (newline, tab...): " + Quoted(s));
  return Status::Ok();
}

Status ValidateText(std::string_view what, std::string_view s) {
  if (!IsValidUtf8(s)) return InvalidArgument(std::string(what) + " is not valid UTF-8");
  if (s.find('\0') != std::string_view::npos) return InvalidArgument(std::string(what) + " contains a NUL byte");
  return Status::Ok();
}

nlohmann::json TaskToJson(const Task& t) {
  using nlohmann::json;
  json comments = json::array();
  for (const Comment& c : t.comments)
    comments.push_back(
        {{"commentText", c.text}, {"commentAuthor", c.author}, {"commentCreatedAt", FormatIso8601(c.created_at)}});
  json j = json::object();
  j["taskId"] = t.id;
  j["taskTitle"] = t.title;
  j["taskType"] = t.type;
  j["taskParent"] = t.parent ? json(*t.parent) : json(nullptr);
  j["taskNamespace"] = t.ns ? json(*t.ns) : json(nullptr);
  j["taskStatus"] = TaskStatusName(t.status);
  j["taskPatchsetCount"] = t.patchset;
  j["taskPriority"] = "P" + std::to_string(t.priority);
  j["taskComplexity"] = t.complexity ? json(*t.complexity) : json(nullptr);
  j["taskDependencies"] = t.deps;
  j["taskDescription"] = t.description;
  j["taskComments"] = std::move(comments);
  j["taskTags"] = t.tags;
  j["taskCreatedAt"] = FormatIso8601(t.created_at);
  j["taskUpdatedAt"] = FormatIso8601(t.updated_at);
  return j;
}

namespace {

Result<std::string> GetString(const nlohmann::json& j, const char* key) {
  if (!j.is_string()) return InvalidArgument(std::string(key) + " must be a string");
  return j.get<std::string>();
}

Result<std::optional<std::string>> GetOptString(const nlohmann::json& j, const char* key) {
  if (j.is_null()) return std::optional<std::string>();
  PL_ASSIGN_OR_RETURN(std::string s, GetString(j, key));
  return std::optional<std::string>(std::move(s));
}

Result<Micros> GetTime(const nlohmann::json& j, const char* key) {
  PL_ASSIGN_OR_RETURN(std::string s, GetString(j, key));
  Micros t = 0;
  if (!ParseIso8601(s, &t)) return InvalidArgument(std::string(key) + " is not an ISO-8601 time: " + Quoted(s));
  return t;
}

Result<std::vector<std::string>> GetStringList(const nlohmann::json& j, const char* key) {
  if (!j.is_array()) return InvalidArgument(std::string(key) + " must be an array of strings");
  std::vector<std::string> out;
  for (const auto& e : j) {
    PL_ASSIGN_OR_RETURN(std::string s, GetString(e, key));
    out.push_back(std::move(s));
  }
  return out;
}

Result<Comment> CommentFromJson(const nlohmann::json& j, Micros now) {
  if (!j.is_object()) return InvalidArgument("taskComments must hold objects");
  Comment c;
  c.created_at = now;
  bool has_text = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k == "commentText") {
      PL_ASSIGN_OR_RETURN(c.text, GetString(*it, "commentText"));
      has_text = true;
    } else if (k == "commentAuthor") {
      PL_ASSIGN_OR_RETURN(c.author, GetString(*it, "commentAuthor"));
    } else if (k == "commentCreatedAt") {
      PL_ASSIGN_OR_RETURN(c.created_at, GetTime(*it, "commentCreatedAt"));
    } else {
      return InvalidArgument("unknown comment field " + Quoted(k));
    }
  }
  if (!has_text) return InvalidArgument("a comment lacks commentText");
  if (c.author.empty()) c.author = "human";
  PL_RETURN_IF_ERROR(ValidateText("commentText", c.text));
  PL_RETURN_IF_ERROR(ValidateAuthor(c.author));
  return c;
}

}  // namespace

Result<Task> TaskFromJson(const nlohmann::json& j, Micros now) {
  if (!j.is_object()) return InvalidArgument("a task must be a JSON object");
  Task t;
  t.created_at = now;
  std::optional<Micros> updated;
  bool has_id = false, has_title = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const nlohmann::json& v = *it;
    if (k == "taskId") {
      PL_ASSIGN_OR_RETURN(t.id, GetString(v, "taskId"));
      has_id = true;
    } else if (k == "taskTitle") {
      PL_ASSIGN_OR_RETURN(t.title, GetString(v, "taskTitle"));
      has_title = true;
    } else if (k == "taskType") {
      PL_ASSIGN_OR_RETURN(std::string s, GetString(v, "taskType"));
      auto type = ParseTaskType(s);
      if (!type) return InvalidArgument("invalid taskType " + Quoted(s) + " (work or epic)");
      t.type = *type;
    } else if (k == "taskParent") {
      PL_ASSIGN_OR_RETURN(t.parent, GetOptString(v, "taskParent"));
    } else if (k == "taskNamespace") {
      PL_ASSIGN_OR_RETURN(t.ns, GetOptString(v, "taskNamespace"));
    } else if (k == "taskStatus") {
      PL_ASSIGN_OR_RETURN(std::string s, GetString(v, "taskStatus"));
      auto st = ParseTaskStatus(s);
      if (!st) return InvalidArgument("invalid taskStatus " + Quoted(s));
      t.status = *st;
    } else if (k == "taskPatchsetCount") {
      if (!v.is_number_integer() || v.get<int64_t>() < 0)
        return InvalidArgument("taskPatchsetCount must be a non-negative integer");
      t.patchset = v.get<int64_t>();
    } else if (k == "taskPriority") {
      std::optional<int> p;
      if (v.is_string()) p = ParseTaskPriority(v.get<std::string>());
      else if (v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= 4) p = v.get<int>();
      if (!p) return InvalidArgument("invalid taskPriority " + v.dump() + " (P0..P4)");
      t.priority = *p;
    } else if (k == "taskComplexity") {
      if (!v.is_null()) {
        if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 5)
          return InvalidArgument("invalid taskComplexity " + v.dump() + " (null or 1..5)");
        t.complexity = v.get<int>();
      }
    } else if (k == "taskDependencies") {
      PL_ASSIGN_OR_RETURN(t.deps, GetStringList(v, "taskDependencies"));
    } else if (k == "taskDescription") {
      PL_ASSIGN_OR_RETURN(t.description, GetString(v, "taskDescription"));
    } else if (k == "taskComments") {
      if (!v.is_array()) return InvalidArgument("taskComments must be an array");
      for (const auto& c : v) {
        PL_ASSIGN_OR_RETURN(Comment comment, CommentFromJson(c, now));
        t.comments.push_back(std::move(comment));
      }
    } else if (k == "taskTags") {
      PL_ASSIGN_OR_RETURN(t.tags, GetStringList(v, "taskTags"));
    } else if (k == "taskCreatedAt") {
      PL_ASSIGN_OR_RETURN(t.created_at, GetTime(v, "taskCreatedAt"));
    } else if (k == "taskUpdatedAt") {
      PL_ASSIGN_OR_RETURN(updated, GetTime(v, "taskUpdatedAt"));
    } else {
      return InvalidArgument("unknown task field " + Quoted(k));
    }
  }
  if (!has_id) return InvalidArgument("taskId is missing");
  if (!has_title) return InvalidArgument("taskTitle is missing");
  t.updated_at = updated.value_or(t.created_at);
  PL_RETURN_IF_ERROR(ValidateTaskId(t.id));
  PL_RETURN_IF_ERROR(ValidateLine("taskTitle", t.title));
  if (t.ns) PL_RETURN_IF_ERROR(ValidateLine("taskNamespace", *t.ns));
  if (t.parent) PL_RETURN_IF_ERROR(ValidateTaskId(*t.parent));
  PL_RETURN_IF_ERROR(ValidateText("taskDescription", t.description));
  std::set<std::string> seen;
  for (const auto& d : t.deps) {
    PL_RETURN_IF_ERROR(ValidateTaskId(d));
    if (d == t.id) return Refused("task " + t.id + " depends on itself");
    if (!seen.insert(d).second) return InvalidArgument("dependency " + d + " is listed twice");
  }
  seen.clear();
  for (const auto& tag : t.tags) {
    PL_RETURN_IF_ERROR(ValidateLine("tag", tag));
    if (!seen.insert(tag).second) return InvalidArgument("tag " + Quoted(tag) + " is listed twice");
  }
  return t;
}

}  // namespace pipeline
