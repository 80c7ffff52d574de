#include "demo/stream_json.h"

namespace pipeline::demo {

StreamJsonWriter::StreamJsonWriter(std::ostream& out, std::string session_id)
    : out_(out), session_id_(std::move(session_id)) {}

void StreamJsonWriter::Emit(const nlohmann::json& j) {
  out_ << j.dump() << '\n';
  out_.flush();
}

void StreamJsonWriter::Init(const std::string& cwd) {
  Emit({{"type", "system"},
        {"subtype", "init"},
        {"cwd", cwd},
        {"session_id", session_id_},
        {"tools", {"Bash", "Edit", "Read", "Write"}},
        {"model", kDemoModel},
        {"permissionMode", "acceptEdits"},
        {"apiKeySource", "none"}});
}

std::string StreamJsonWriter::Assistant(const std::string& text, const std::string& tool,
                                        const nlohmann::json& input) {
  ++turns_;
  nlohmann::json content = nlohmann::json::array();
  if (!text.empty()) content.push_back({{"type", "text"}, {"text", text}});
  std::string tool_id;
  if (!tool.empty()) {
    tool_id = "toolu_demo_" + std::to_string(turns_);
    content.push_back({{"type", "tool_use"}, {"id", tool_id}, {"name", tool}, {"input", input}});
  }
  // Modest token counts: whatever a supervisor prices them at stays below the
  // run's final cost, which the result line states exactly.
  int64_t in = 900 + 150 * turns_, out = 60 + 25 * turns_;
  input_tokens_ += in;
  output_tokens_ += out;
  Emit({{"type", "assistant"},
        {"message",
         {{"id", "msg_demo_" + std::to_string(turns_)},
          {"type", "message"},
          {"role", "assistant"},
          {"model", kDemoModel},
          {"content", content},
          {"stop_reason", tool.empty() ? "end_turn" : "tool_use"},
          {"usage",
           {{"input_tokens", in},
            {"output_tokens", out},
            {"cache_creation_input_tokens", 0},
            {"cache_read_input_tokens", 0}}}}},
        {"parent_tool_use_id", nullptr},
        {"session_id", session_id_}});
  return tool_id;
}

void StreamJsonWriter::ToolResult(const std::string& tool_use_id, const std::string& content, bool is_error) {
  Emit({{"type", "user"},
        {"message",
         {{"role", "user"},
          {"content",
           {{{"type", "tool_result"}, {"tool_use_id", tool_use_id}, {"content", content}, {"is_error", is_error}}}}}},
        {"parent_tool_use_id", nullptr},
        {"session_id", session_id_}});
}

void StreamJsonWriter::Result(int64_t cost_cents, const std::string& text, bool is_error) {
  Emit({{"type", "result"},
        {"subtype", is_error ? "error_during_execution" : "success"},
        {"is_error", is_error},
        {"duration_ms", 0},
        {"duration_api_ms", 0},
        {"num_turns", turns_},
        {"result", text},
        {"session_id", session_id_},
        {"total_cost_usd", static_cast<double>(cost_cents) / 100.0},
        {"usage",
         {{"input_tokens", input_tokens_},
          {"output_tokens", output_tokens_},
          {"cache_creation_input_tokens", 0},
          {"cache_read_input_tokens", 0}}}});
}

}  // namespace pipeline::demo
