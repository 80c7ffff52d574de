// What the stub needs from a model request, read from either API's JSON: the
// user's words (to pick a conversation) and how far the conversation is (the
// number of answers it already holds). Reading the position from the request
// itself keeps the server stateless across retries and restarts.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "util/status.h"

namespace pipeline::stub {

struct RequestView {
  std::string model;
  bool stream = false;
  std::string user_text;  // every user-written text block, joined by newlines (tool results excluded)
  int64_t position = 0;   // assistant turns (Anthropic) or assistant output items (OpenAI) so far
  std::string cwd;        // the agent's working directory as its prompt states it; may be empty
};

// POST /v1/messages body (Anthropic Messages API).
Result<RequestView> ReadAnthropicRequest(const nlohmann::json& body);
// POST /v1/responses body (OpenAI Responses API).
Result<RequestView> ReadResponsesRequest(const nlohmann::json& body);

}  // namespace pipeline::stub
