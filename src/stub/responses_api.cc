#include "stub/responses_api.h"

#include "stub/sse.h"
#include "util/text.h"

namespace pipeline::stub {

using nlohmann::json;

namespace {

// POSIX single quoting for a command the *agent* runs in its own shell.
std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

// One line per element, each with the diff marker; a trailing newline ends the last line.
std::string Prefixed(const std::string& text, char marker) {
  std::string out;
  if (text.empty()) return out;
  for (const std::string& line : Split(text.back() == '\n' ? text.substr(0, text.size() - 1) : text, '\n'))
    out += marker + line + "\n";
  return out;
}

json FunctionCall(const Turn& t, const std::string& id) {
  std::string name = "exec_command";
  json args;
  switch (t.kind) {
    case TurnKind::kBash: args = {{"cmd", t.command}}; break;
    case TurnKind::kWrite: args = {{"cmd", ShellWriteCommand(t.path, t.content)}}; break;
    case TurnKind::kEdit: args = {{"cmd", ApplyPatchCommand(t.path, t.old_text, t.new_text)}}; break;
    case TurnKind::kRead: args = {{"cmd", "cat " + ShellQuote(t.path)}}; break;
    case TurnKind::kTool:
      name = t.tool_name;
      args = t.tool_input;
      break;
    default: return nullptr;
  }
  return {{"type", "function_call"}, {"id", "fc_" + id},       {"call_id", "call_" + id},
          {"name", name},            {"arguments", args.dump()}, {"status", "completed"}};
}

json OutputItem(const Turn& turn, const std::string& id) {
  json call = FunctionCall(turn, id);
  if (!call.is_null()) return call;
  return {{"type", "message"},
          {"id", "msg_" + id},
          {"role", "assistant"},
          {"status", "completed"},
          {"content", json::array({{{"type", "output_text"}, {"text", turn.text}, {"annotations", json::array()}}})}};
}

json UsageJson(const Usage& u) {
  return {{"input_tokens", u.input_tokens},
          {"input_tokens_details", {{"cached_tokens", u.cache_read_tokens}}},
          {"output_tokens", u.output_tokens},
          {"output_tokens_details", {{"reasoning_tokens", u.reasoning_tokens}}},
          {"total_tokens", u.input_tokens + u.output_tokens}};
}

}  // namespace

std::string ShellWriteCommand(const std::string& path, const std::string& content) {
  return "printf '%s' " + ShellQuote(content) + " > " + ShellQuote(path);
}

std::string ApplyPatchCommand(const std::string& path, const std::string& old_text, const std::string& new_text) {
  return "apply_patch <<'EOF'\n*** Begin Patch\n*** Update File: " + path + "\n@@\n" + Prefixed(old_text, '-') +
         Prefixed(new_text, '+') + "*** End Patch\nEOF\n";
}

json ResponsesObject(const Turn& turn, const RequestView& req, const std::string& id, int64_t created_at) {
  return {{"id", "resp_" + id},
          {"object", "response"},
          {"created_at", created_at},
          {"status", "completed"},
          {"model", req.model.empty() ? "stub-model" : req.model},
          {"output", json::array({OutputItem(turn, id)})},
          {"usage", UsageJson(turn.usage)}};
}

std::string ResponsesStream(const Turn& turn, const RequestView& req, const std::string& id, int64_t created_at) {
  json done = ResponsesObject(turn, req, id, created_at);
  json item = done["output"][0];
  std::string out;
  int seq = 0;
  auto emit = [&](const std::string& type, json data) {
    data["type"] = type;
    data["sequence_number"] = seq++;
    AppendSse(&out, type, data);
  };
  json created = done;
  created["status"] = "in_progress";
  created["output"] = json::array();
  created.erase("usage");
  emit("response.created", {{"response", created}});
  json added = item;
  added["status"] = "in_progress";
  if (item["type"] == "message") {
    added["content"] = json::array();
    emit("response.output_item.added", {{"output_index", 0}, {"item", added}});
    std::string text = item["content"][0]["text"];
    emit("response.content_part.added", {{"item_id", item["id"]}, {"output_index", 0}, {"content_index", 0},
                                         {"part", {{"type", "output_text"}, {"text", ""}, {"annotations", json::array()}}}});
    emit("response.output_text.delta",
         {{"item_id", item["id"]}, {"output_index", 0}, {"content_index", 0}, {"delta", text}});
    emit("response.output_text.done",
         {{"item_id", item["id"]}, {"output_index", 0}, {"content_index", 0}, {"text", text}});
    emit("response.content_part.done",
         {{"item_id", item["id"]}, {"output_index", 0}, {"content_index", 0}, {"part", item["content"][0]}});
  } else {
    added["arguments"] = "";
    emit("response.output_item.added", {{"output_index", 0}, {"item", added}});
    emit("response.function_call_arguments.delta",
         {{"item_id", item["id"]}, {"output_index", 0}, {"delta", item["arguments"]}});
    emit("response.function_call_arguments.done",
         {{"item_id", item["id"]}, {"output_index", 0}, {"arguments", item["arguments"]}});
  }
  emit("response.output_item.done", {{"output_index", 0}, {"item", item}});
  emit("response.completed", {{"response", done}});
  return out;
}

json ResponsesError(int status, const std::string& type, const std::string& message) {
  // OpenAI names these by code; keep the Anthropic-style type when the scenario gave one.
  std::string code = status == 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error";
  return {{"error", {{"type", type}, {"message", message}, {"code", code}, {"param", nullptr}}}};
}

}  // namespace pipeline::stub
