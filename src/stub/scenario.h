// A scenario: what the scripted model server answers. It is a list of
// conversations, each picked by a marker found in the request's user text, and
// each a list of turns (a tool call, a final text, an HTTP error) played in
// order. The file format is documented in docs/model-stub.md.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace pipeline::stub {

// Token usage reported for one answer (both APIs take what they need).
struct Usage {
  int64_t input_tokens = 100;
  int64_t output_tokens = 20;
  int64_t cache_read_tokens = 0;      // Anthropic cache_read_input_tokens / OpenAI cached_tokens
  int64_t cache_creation_tokens = 0;  // Anthropic only
  int64_t reasoning_tokens = 0;       // OpenAI only
};

enum class TurnKind { kBash, kWrite, kEdit, kRead, kTool, kText, kError };
const char* TurnKindName(TurnKind kind);

struct Turn {
  TurnKind kind = TurnKind::kText;
  std::string command;                   // kBash
  std::string path, content;             // kWrite (path, content), kRead (path)
  std::string old_text, new_text;        // kEdit
  std::string tool_name;                 // kTool: the agent's own tool, sent as is
  nlohmann::json tool_input;             // kTool
  std::string text;                      // kText; optional words before a tool call
  int http_status = 0;                   // kError
  std::string error_type, error_message; // kError
  int64_t retry_after_ms = -1;           // kError: sent as retry-after(-ms) when >= 0
  int64_t times = 0;                     // kError: answer this many requests, 0 = every one
  int64_t delay_ms = 0;                  // wait before answering
  Usage usage;
};

struct Conversation {
  std::string name;   // for logs and errors
  // Substrings of the user text that must all occur; empty for the default.
  // A file gives one string or a list (a list tells apart the later prompts
  // of one task, e.g. its id and "rejected").
  std::vector<std::string> match;
  bool is_default = false;
  std::vector<Turn> turns;
};

struct Scenario {
  std::vector<Conversation> conversations;
};

// Parses and checks a scenario. Every problem (bad JSON, unknown turn kind or
// tool, missing field, no conversations) is an InvalidArgument error naming
// the place, e.g. "conversations[0].turns[2]: unknown turn kind \"bsh\"".
Result<Scenario> ParseScenario(const std::string& text);
Result<Scenario> LoadScenarioFile(const std::string& path);

// Which conversation a request belongs to: the first whose markers all occur
// in user_text, else the default one; nullopt when neither exists.
std::optional<size_t> FindConversation(const Scenario& s, const std::string& user_text);

// What to answer at one point of a conversation. `position` is the number of
// answers (assistant turns) the request already carries; `attempt` is how many
// requests the server has seen before at this same position (retries).
struct Pick {
  const Turn* turn = nullptr;  // nullptr: the scenario does not cover this request
  bool is_last = false;        // the answer is the conversation's last turn
};
Pick PickTurn(const Conversation& c, int64_t position, int64_t attempt);

}  // namespace pipeline::stub
