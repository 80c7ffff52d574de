// Answers in the OpenAI Responses API (`POST /v1/responses`, the wire API
// Codex speaks with wire_api = "responses"): a scripted turn as the SSE stream
// response.created, response.output_item.added, response.output_text.delta
// (text) or response.function_call_arguments.delta (tool call),
// response.output_item.done, response.completed with usage. Tool calls use
// Codex's `exec_command` {cmd} tool: a write becomes a here-document, an edit
// an apply_patch. A tool turn's preface text is not sent here, so that every
// answer stays one output item (which is how the position is counted).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "stub/request_view.h"
#include "stub/scenario.h"

namespace pipeline::stub {

// The response object (status "completed") a turn becomes.
// REQUIRES: turn.kind != kError.
nlohmann::json ResponsesObject(const Turn& turn, const RequestView& req, const std::string& id, int64_t created_at);
std::string ResponsesStream(const Turn& turn, const RequestView& req, const std::string& id, int64_t created_at);
// {"error":{"type":..., "message":..., "code":...}}
nlohmann::json ResponsesError(int status, const std::string& type, const std::string& message);

// The shell command a write or edit turn becomes for an agent whose only file
// tool is a shell. Exposed for tests.
std::string ShellWriteCommand(const std::string& path, const std::string& content);
std::string ApplyPatchCommand(const std::string& path, const std::string& old_text, const std::string& new_text);

}  // namespace pipeline::stub
