#include "stub/request_view.h"

namespace pipeline::stub {

using nlohmann::json;

namespace {

void AppendText(std::string* out, const std::string& text) {
  if (!out->empty()) out->push_back('\n');
  out->append(text);
}

void ReadCommon(const json& body, RequestView* v) {
  if (body.contains("model") && body["model"].is_string()) v->model = body["model"].get<std::string>();
  v->stream = body.value("stream", false);
}

// The text between `open` and `close` (or the end of the line) after the
// first `open` in text; empty when absent.
std::string Between(const std::string& text, const std::string& open, const std::string& close) {
  size_t start = text.find(open);
  if (start == std::string::npos) return "";
  start += open.size();
  size_t end = text.find(close, start);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

Result<RequestView> ReadAnthropicRequest(const json& body) {
  if (!body.is_object() || !body.contains("messages") || !body["messages"].is_array())
    return InvalidArgument("request has no \"messages\" list");
  RequestView v;
  ReadCommon(body, &v);
  for (const json& m : body["messages"]) {
    if (!m.is_object()) continue;
    std::string role = m.value("role", "");
    if (role == "assistant") {
      ++v.position;
      continue;
    }
    if (role != "user" || !m.contains("content")) continue;
    const json& content = m["content"];
    if (content.is_string()) {
      AppendText(&v.user_text, content.get<std::string>());
    } else if (content.is_array()) {
      for (const json& block : content) {
        if (block.is_object() && block.value("type", "") == "text" && block.contains("text") &&
            block["text"].is_string())
          AppendText(&v.user_text, block["text"].get<std::string>());
      }
    }
  }
  // Claude Code names its directory in the system prompt's environment section.
  std::string system;
  if (body.contains("system") && body["system"].is_string()) {
    system = body["system"].get<std::string>();
  } else if (body.contains("system") && body["system"].is_array()) {
    for (const json& block : body["system"])
      if (block.is_object() && block.contains("text") && block["text"].is_string())
        AppendText(&system, block["text"].get<std::string>());
  }
  // Claude Code names its directory in an environment section, in the system
  // prompt or in a reminder in the first user message (it varies by version).
  std::string all = system + "\n" + v.user_text;
  v.cwd = Between(all, "Primary working directory: ", "\n");
  if (v.cwd.empty()) v.cwd = Between(all, "Working directory: ", "\n");
  return v;
}

Result<RequestView> ReadResponsesRequest(const json& body) {
  if (!body.is_object() || !body.contains("input")) return InvalidArgument("request has no \"input\"");
  RequestView v;
  ReadCommon(body, &v);
  const json& input = body["input"];
  if (input.is_string()) {
    v.user_text = input.get<std::string>();
    return v;
  }
  if (!input.is_array()) return InvalidArgument("\"input\" must be a string or a list");
  for (const json& item : input) {
    if (!item.is_object()) continue;
    std::string type = item.value("type", "message");
    std::string role = item.value("role", "");
    // Our answers come back as one item each: a function call or an assistant message.
    if (type == "function_call" || type == "custom_tool_call" || type == "local_shell_call" ||
        (type == "message" && role == "assistant")) {
      ++v.position;
      continue;
    }
    if (type != "message" || role != "user" || !item.contains("content")) continue;
    const json& content = item["content"];
    if (content.is_string()) {
      AppendText(&v.user_text, content.get<std::string>());
    } else if (content.is_array()) {
      for (const json& part : content) {
        if (part.is_object() && part.contains("text") && part["text"].is_string())
          AppendText(&v.user_text, part["text"].get<std::string>());
      }
    }
  }
  // Codex states its directory in an <environment_context> user message.
  v.cwd = Between(v.user_text, "<cwd>", "</cwd>");
  return v;
}

}  // namespace pipeline::stub
