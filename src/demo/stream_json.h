// Claude Code's `--output-format stream-json` as the scripted agent prints
// it: a system/init line, assistant messages carrying message.usage, user
// messages with tool results, and one final result line with
// total_cost_usd and num_turns. One JSON object per line, flushed at once, so
// a supervisor reading the pipe sees the run progress.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

namespace pipeline::demo {

inline constexpr const char* kDemoModel = "claude-sonnet-4-5";

class StreamJsonWriter {
 public:
  StreamJsonWriter(std::ostream& out, std::string session_id);

  void Init(const std::string& cwd);
  // One assistant message: optional text, optional tool call. Returns the
  // tool_use id ("" when no tool).
  std::string Assistant(const std::string& text, const std::string& tool, const nlohmann::json& input);
  void ToolResult(const std::string& tool_use_id, const std::string& content, bool is_error = false);
  // The final line. cost_cents becomes total_cost_usd.
  void Result(int64_t cost_cents, const std::string& text, bool is_error);

  int turns() const { return turns_; }

 private:
  void Emit(const nlohmann::json& j);

  std::ostream& out_;
  std::string session_id_;
  int turns_ = 0;
  int64_t input_tokens_ = 0, output_tokens_ = 0;
};

}  // namespace pipeline::demo
