// Readers of an agent's stdout: each turns the lines an agent CLI prints into
// the cost and turn count so far, and notices a failure the agent reports in
// its output. One reader per run, fed by the monitor, one line at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/pricing.h"

namespace pipeline {

class OutputReader {
 public:
  virtual ~OutputReader() = default;
  // One line of stdout without its newline. Lines that mean nothing are ignored.
  virtual void OnLine(std::string_view line) = 0;
  virtual double cost_cents() const = 0;
  virtual int64_t turns() const = 0;
  // A failure the agent reported in its output (Claude's is_error result).
  virtual std::optional<std::string> error() const { return std::nullopt; }
};

// "claude-code": `--output-format stream-json`. Cost so far is the priced sum
// of the assistant messages' usage (one count per message id: Claude Code
// repeats a message's usage on each of its content blocks); the final
// `result` line replaces it with total_cost_usd and num_turns.
std::unique_ptr<OutputReader> MakeClaudeReader(const PricingTable& pricing, std::optional<std::string> model);
// "codex": `codex exec --json`. Each turn.completed adds a turn and its priced usage.
std::unique_ptr<OutputReader> MakeCodexReader(const PricingTable& pricing, std::optional<std::string> model);
// "command": lines `cost_cents: N` (last wins, fractions allowed) and `turns: N`.
std::unique_ptr<OutputReader> MakeCommandReader();

// By reader name; nullptr for an unknown name.
std::unique_ptr<OutputReader> MakeReader(const std::string& kind, const PricingTable& pricing,
                                         std::optional<std::string> model);
bool IsKnownReader(const std::string& kind);

}  // namespace pipeline
