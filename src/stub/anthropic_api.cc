#include "stub/anthropic_api.h"

#include "stub/sse.h"

namespace pipeline::stub {

using nlohmann::json;

namespace {

// The tool_use block for a tool turn; null for a text turn.
json ToolUse(const Turn& t, const RequestView& req, const std::string& id) {
  json input;
  std::string name;
  switch (t.kind) {
    case TurnKind::kBash:
      name = "Bash";
      input = {{"command", t.command}, {"description", "Run a scripted command"}};
      break;
    case TurnKind::kWrite:
      name = "Write";
      input = {{"file_path", ResolvePath(req.cwd, t.path)}, {"content", t.content}};
      break;
    case TurnKind::kEdit:
      name = "Edit";
      input = {{"file_path", ResolvePath(req.cwd, t.path)}, {"old_string", t.old_text}, {"new_string", t.new_text}};
      break;
    case TurnKind::kRead:
      name = "Read";
      input = {{"file_path", ResolvePath(req.cwd, t.path)}};
      break;
    case TurnKind::kTool:
      name = t.tool_name;
      input = t.tool_input;
      break;
    default:
      return nullptr;
  }
  return {{"type", "tool_use"}, {"id", "toolu_" + id}, {"name", name}, {"input", input}};
}

json UsageJson(const Usage& u) {
  return {{"input_tokens", u.input_tokens},
          {"output_tokens", u.output_tokens},
          {"cache_creation_input_tokens", u.cache_creation_tokens},
          {"cache_read_input_tokens", u.cache_read_tokens}};
}

std::string ModelOf(const RequestView& req) { return req.model.empty() ? "stub-model" : req.model; }

}  // namespace

json AnthropicMessage(const Turn& turn, const RequestView& req, const std::string& id) {
  json content = json::array();
  if (!turn.text.empty() || turn.kind == TurnKind::kText) content.push_back({{"type", "text"}, {"text", turn.text}});
  json tool = ToolUse(turn, req, id);
  if (!tool.is_null()) content.push_back(tool);
  return {{"id", "msg_" + id},
          {"type", "message"},
          {"role", "assistant"},
          {"model", ModelOf(req)},
          {"content", content},
          {"stop_reason", tool.is_null() ? "end_turn" : "tool_use"},
          {"stop_sequence", nullptr},
          {"usage", UsageJson(turn.usage)}};
}

std::string AnthropicStream(const Turn& turn, const RequestView& req, const std::string& id) {
  json msg = AnthropicMessage(turn, req, id);
  std::string out;
  json start = msg;
  start["content"] = json::array();
  start["stop_reason"] = nullptr;
  // As the real API does: input counts up front, output tokens at the end.
  start["usage"]["output_tokens"] = 1;
  AppendSse(&out, "message_start", {{"type", "message_start"}, {"message", start}});
  int index = 0;
  for (const json& block : msg["content"]) {
    json empty = block;
    json delta;
    if (block["type"] == "text") {
      empty["text"] = "";
      delta = {{"type", "text_delta"}, {"text", block["text"]}};
    } else {
      empty["input"] = json::object();
      delta = {{"type", "input_json_delta"}, {"partial_json", block["input"].dump()}};
    }
    AppendSse(&out, "content_block_start", {{"type", "content_block_start"}, {"index", index}, {"content_block", empty}});
    AppendSse(&out, "content_block_delta", {{"type", "content_block_delta"}, {"index", index}, {"delta", delta}});
    AppendSse(&out, "content_block_stop", {{"type", "content_block_stop"}, {"index", index}});
    ++index;
  }
  AppendSse(&out, "message_delta",
            {{"type", "message_delta"},
             {"delta", {{"stop_reason", msg["stop_reason"]}, {"stop_sequence", nullptr}}},
             {"usage", msg["usage"]}});
  AppendSse(&out, "message_stop", {{"type", "message_stop"}});
  return out;
}

json AnthropicError(const std::string& type, const std::string& message) {
  return {{"type", "error"}, {"error", {{"type", type}, {"message", message}}}};
}

}  // namespace pipeline::stub
