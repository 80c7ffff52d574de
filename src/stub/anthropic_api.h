// Answers in the Anthropic Messages API: a scripted turn rendered as the SSE
// stream `POST /v1/messages` returns with "stream": true (or as one JSON
// message without it), and errors in the API's error shape. Tool calls name
// Claude Code's own tools: Bash {command}, Write {file_path, content},
// Edit {file_path, old_string, new_string}, Read {file_path}.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "stub/request_view.h"
#include "stub/scenario.h"

namespace pipeline::stub {

// The message a turn becomes. `id` is unique per conversation and position, so
// a retried request gets the same message and tool-use id.
// REQUIRES: turn.kind != kError.
nlohmann::json AnthropicMessage(const Turn& turn, const RequestView& req, const std::string& id);
// The same message as the event stream: message_start, per block
// content_block_start / _delta (text_delta or input_json_delta) / _stop,
// message_delta (stop_reason, usage), message_stop.
std::string AnthropicStream(const Turn& turn, const RequestView& req, const std::string& id);
// {"type":"error","error":{"type":..., "message":...}}
nlohmann::json AnthropicError(const std::string& type, const std::string& message);

}  // namespace pipeline::stub
