#include "stub/scenario.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "util/files.h"

namespace pipeline::stub {

using nlohmann::json;

namespace {

// The agents' own tool names a `tool` turn may call: Claude Code's and Codex's.
constexpr std::array<std::string_view, 10> kKnownTools = {
    "Bash", "Write", "Edit", "Read", "Glob", "Grep", "exec_command", "shell", "apply_patch", "update_plan"};

// The keys that choose a turn's kind; a turn has exactly one of them (or only
// `text`, which makes it a final message).
constexpr std::array<std::pair<std::string_view, TurnKind>, 6> kKindKeys = {{
    {"bash", TurnKind::kBash},
    {"write", TurnKind::kWrite},
    {"edit", TurnKind::kEdit},
    {"read", TurnKind::kRead},
    {"tool", TurnKind::kTool},
    {"error", TurnKind::kError},
}};

constexpr std::array<std::string_view, 7> kCommonKeys = {"text", "usage", "delay_ms", "times",
                                                         "retry_after_ms", "comment", "kind"};

Error Bad(const std::string& where, const std::string& what) { return InvalidArgument(where + ": " + what); }

Result<std::string> StringField(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) return Bad(where, std::string("missing \"") + key + "\"");
  if (!j[key].is_string()) return Bad(where, std::string("\"") + key + "\" must be a string");
  return j[key].get<std::string>();
}

Result<int64_t> NonNegative(const json& j, const char* key, const std::string& where) {
  if (!j[key].is_number_integer() || j[key].get<int64_t>() < 0)
    return Bad(where, std::string("\"") + key + "\" must be a non-negative integer");
  return j[key].get<int64_t>();
}

Status ParseUsage(const json& j, const std::string& where, Usage* u) {
  if (!j.is_object()) return Bad(where, "\"usage\" must be an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    int64_t* slot = nullptr;
    if (it.key() == "input_tokens") slot = &u->input_tokens;
    else if (it.key() == "output_tokens") slot = &u->output_tokens;
    else if (it.key() == "cache_read_tokens") slot = &u->cache_read_tokens;
    else if (it.key() == "cache_creation_tokens") slot = &u->cache_creation_tokens;
    else if (it.key() == "reasoning_tokens") slot = &u->reasoning_tokens;
    else return Bad(where, "unknown usage field \"" + it.key() + "\"");
    PL_ASSIGN_OR_RETURN(*slot, NonNegative(j, it.key().c_str(), where + ".usage"));
  }
  return Status::Ok();
}

// Default error type and message per status, as the real APIs word them.
void FillErrorDefaults(Turn* t) {
  if (t->error_type.empty()) {
    switch (t->http_status) {
      case 429: t->error_type = "rate_limit_error"; break;
      case 529: t->error_type = "overloaded_error"; break;
      case 400: t->error_type = "invalid_request_error"; break;
      case 401: t->error_type = "authentication_error"; break;
      default: t->error_type = t->http_status >= 500 ? "api_error" : "invalid_request_error";
    }
  }
  if (t->error_message.empty()) {
    t->error_message = t->http_status == 529 ? "Overloaded" : "scripted error " + std::to_string(t->http_status);
  }
}

Status ParseKind(const json& j, TurnKind kind, const std::string& where, Turn* t) {
  switch (kind) {
    case TurnKind::kBash: {
      PL_ASSIGN_OR_RETURN(t->command, StringField(j, "bash", where));
      if (t->command.empty()) return Bad(where, "\"bash\" is empty");
      return Status::Ok();
    }
    case TurnKind::kWrite: {
      const json& w = j["write"];
      if (!w.is_object()) return Bad(where, "\"write\" must be an object {path, content}");
      PL_ASSIGN_OR_RETURN(t->path, StringField(w, "path", where + ".write"));
      PL_ASSIGN_OR_RETURN(t->content, StringField(w, "content", where + ".write"));
      return Status::Ok();
    }
    case TurnKind::kEdit: {
      const json& e = j["edit"];
      if (!e.is_object()) return Bad(where, "\"edit\" must be an object {path, old, new}");
      PL_ASSIGN_OR_RETURN(t->path, StringField(e, "path", where + ".edit"));
      PL_ASSIGN_OR_RETURN(t->old_text, StringField(e, "old", where + ".edit"));
      PL_ASSIGN_OR_RETURN(t->new_text, StringField(e, "new", where + ".edit"));
      return Status::Ok();
    }
    case TurnKind::kRead: {
      const json& r = j["read"];
      if (!r.is_object()) return Bad(where, "\"read\" must be an object {path}");
      PL_ASSIGN_OR_RETURN(t->path, StringField(r, "path", where + ".read"));
      return Status::Ok();
    }
    case TurnKind::kTool: {
      const json& tj = j["tool"];
      if (!tj.is_object()) return Bad(where, "\"tool\" must be an object {name, input}");
      PL_ASSIGN_OR_RETURN(t->tool_name, StringField(tj, "name", where + ".tool"));
      if (std::find(kKnownTools.begin(), kKnownTools.end(), t->tool_name) == kKnownTools.end())
        return Bad(where, "unknown tool \"" + t->tool_name + "\"");
      t->tool_input = tj.contains("input") ? tj["input"] : json::object();
      if (!t->tool_input.is_object()) return Bad(where, "\"tool.input\" must be an object");
      return Status::Ok();
    }
    case TurnKind::kError: {
      const json& e = j["error"];
      if (!e.is_object()) return Bad(where, "\"error\" must be an object {status, type?, message?}");
      if (!e.contains("status")) return Bad(where + ".error", "missing \"status\"");
      PL_ASSIGN_OR_RETURN(int64_t status, NonNegative(e, "status", where + ".error"));
      if (status < 400 || status > 599) return Bad(where + ".error", "\"status\" must be 400..599");
      t->http_status = static_cast<int>(status);
      if (e.contains("type")) {
    PL_ASSIGN_OR_RETURN(t->error_type, StringField(e, "type", where + ".error"));
  }
      if (e.contains("message")) {
    PL_ASSIGN_OR_RETURN(t->error_message, StringField(e, "message", where + ".error"));
  }
      FillErrorDefaults(t);
      return Status::Ok();
    }
    case TurnKind::kText:
      return Status::Ok();
  }
  return Status::Ok();
}

Result<Turn> ParseTurn(const json& j, const std::string& where) {
  if (!j.is_object()) return Bad(where, "a turn must be an object");
  Turn t;
  int kinds = 0;
  for (auto it = j.begin(); it != j.end(); ++it) {
    auto k = std::find_if(kKindKeys.begin(), kKindKeys.end(), [&](auto& p) { return p.first == it.key(); });
    if (k != kKindKeys.end()) {
      t.kind = k->second;
      ++kinds;
    } else if (std::find(kCommonKeys.begin(), kCommonKeys.end(), it.key()) == kCommonKeys.end()) {
      return Bad(where, "unknown turn kind \"" + it.key() + "\"");
    }
  }
  if (j.contains("kind")) return Bad(where, "write the kind as a key (e.g. {\"bash\": \"...\"}), not \"kind\"");
  if (kinds > 1) return Bad(where, "a turn has exactly one of bash, write, edit, read, tool, error, text");
  if (kinds == 0) {
    if (!j.contains("text")) return Bad(where, "empty turn: give one of bash, write, edit, read, tool, error, text");
    t.kind = TurnKind::kText;
  }
  if (j.contains("text")) {
    PL_ASSIGN_OR_RETURN(t.text, StringField(j, "text", where));
  }
  if (t.kind == TurnKind::kError && j.contains("text")) return Bad(where, "an error turn takes no \"text\"");
  PL_RETURN_IF_ERROR(ParseKind(j, t.kind, where, &t));
  if (j.contains("usage")) PL_RETURN_IF_ERROR(ParseUsage(j["usage"], where, &t.usage));
  if (j.contains("delay_ms")) {
    PL_ASSIGN_OR_RETURN(t.delay_ms, NonNegative(j, "delay_ms", where));
  }
  bool error_only = j.contains("times") || j.contains("retry_after_ms");
  if (error_only && t.kind != TurnKind::kError) return Bad(where, "\"times\" and \"retry_after_ms\" belong to error turns");
  if (j.contains("times")) {
    PL_ASSIGN_OR_RETURN(t.times, NonNegative(j, "times", where));
  }
  if (j.contains("retry_after_ms")) {
    PL_ASSIGN_OR_RETURN(t.retry_after_ms, NonNegative(j, "retry_after_ms", where));
  }
  return t;
}

std::string JoinMarkers(const std::vector<std::string>& markers) {
  std::string out;
  for (const std::string& m : markers) out += (out.empty() ? "" : " + ") + m;
  return out;
}

// "match": one non-empty string, or a non-empty list of them.
Result<std::vector<std::string>> MatchField(const json& m, const std::string& where) {
  std::vector<std::string> out;
  if (m.is_string()) {
    out.push_back(m.get<std::string>());
  } else if (m.is_array() && !m.empty()) {
    for (const json& e : m) {
      if (!e.is_string()) return Bad(where, "\"match\" must be a string or a list of strings");
      out.push_back(e.get<std::string>());
    }
  } else {
    return Bad(where, "\"match\" must be a string or a non-empty list of strings");
  }
  for (const std::string& e : out) {
    if (e.empty()) return Bad(where, "\"match\" strings must not be empty");
  }
  return out;
}

Result<Conversation> ParseConversation(const json& j, const std::string& where) {
  if (!j.is_object()) return Bad(where, "a conversation must be an object");
  Conversation c;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "name" && it.key() != "match" && it.key() != "default" && it.key() != "turns")
      return Bad(where, "unknown field \"" + it.key() + "\"");
  }
  if (j.contains("name")) {
    PL_ASSIGN_OR_RETURN(c.name, StringField(j, "name", where));
  }
  if (j.contains("default")) {
    if (!j["default"].is_boolean()) return Bad(where, "\"default\" must be true or false");
    c.is_default = j["default"].get<bool>();
  }
  if (j.contains("match")) {
    PL_ASSIGN_OR_RETURN(c.match, MatchField(j["match"], where));
  }
  if (c.is_default == !c.match.empty())
    return Bad(where, "give either a non-empty \"match\" or \"default\": true");
  if (c.name.empty()) c.name = c.is_default ? "default" : JoinMarkers(c.match);
  if (!j.contains("turns") || !j["turns"].is_array() || j["turns"].empty())
    return Bad(where, "\"turns\" must be a non-empty list");
  for (size_t i = 0; i < j["turns"].size(); ++i) {
    PL_ASSIGN_OR_RETURN(Turn t, ParseTurn(j["turns"][i], where + ".turns[" + std::to_string(i) + "]"));
    c.turns.push_back(std::move(t));
  }
  return c;
}

}  // namespace

const char* TurnKindName(TurnKind kind) {
  switch (kind) {
    case TurnKind::kBash: return "bash";
    case TurnKind::kWrite: return "write";
    case TurnKind::kEdit: return "edit";
    case TurnKind::kRead: return "read";
    case TurnKind::kTool: return "tool";
    case TurnKind::kText: return "text";
    case TurnKind::kError: return "error";
  }
  return "?";
}

Result<Scenario> ParseScenario(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("scenario is not valid JSON");
  if (!j.is_object()) return InvalidArgument("scenario must be a JSON object with \"conversations\"");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "conversations" && it.key() != "comment")
      return InvalidArgument("scenario: unknown field \"" + it.key() + "\"");
  }
  if (!j.contains("conversations") || !j["conversations"].is_array() || j["conversations"].empty())
    return InvalidArgument("scenario: \"conversations\" must be a non-empty list");
  Scenario s;
  int defaults = 0;
  for (size_t i = 0; i < j["conversations"].size(); ++i) {
    PL_ASSIGN_OR_RETURN(Conversation c,
                        ParseConversation(j["conversations"][i], "conversations[" + std::to_string(i) + "]"));
    defaults += c.is_default ? 1 : 0;
    s.conversations.push_back(std::move(c));
  }
  if (defaults > 1) return InvalidArgument("scenario: more than one default conversation");
  return s;
}

Result<Scenario> LoadScenarioFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return InvalidArgument("cannot read scenario " + path + ": " + text.message());
  auto s = ParseScenario(*text);
  if (!s.ok()) return InvalidArgument(path + ": " + s.message());
  return s;
}

std::optional<size_t> FindConversation(const Scenario& s, const std::string& user_text) {
  std::optional<size_t> fallback;
  for (size_t i = 0; i < s.conversations.size(); ++i) {
    const Conversation& c = s.conversations[i];
    if (c.is_default) {
      fallback = i;
    } else if (std::all_of(c.match.begin(), c.match.end(),
                           [&](const std::string& m) { return user_text.find(m) != std::string::npos; })) {
      return i;
    }
  }
  return fallback;
}

Pick PickTurn(const Conversation& c, int64_t position, int64_t attempt) {
  // Error turns answer requests without adding to the history, so they sit
  // in front of the answer turn that follows them; walk to the answer turn
  // number `position`, then spend `attempt` on its errors.
  int64_t answers_seen = 0;
  size_t i = 0;
  while (i < c.turns.size() && answers_seen < position) {
    if (c.turns[i].kind != TurnKind::kError) ++answers_seen;
    ++i;
  }
  if (answers_seen < position) return {};
  for (; i < c.turns.size(); ++i) {
    const Turn& t = c.turns[i];
    if (t.kind != TurnKind::kError) return {&t, i + 1 == c.turns.size()};
    if (t.times == 0 || attempt < t.times) return {&t, false};
    attempt -= t.times;
  }
  return {};
}

}  // namespace pipeline::stub
