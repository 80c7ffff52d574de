#include "agent/output_reader.h"

namespace pipeline {

std::unique_ptr<OutputReader> MakeReader(const std::string& kind, const PricingTable& pricing,
                                         std::optional<std::string> model) {
  if (kind == "claude-code") return MakeClaudeReader(pricing, std::move(model));
  if (kind == "codex") return MakeCodexReader(pricing, std::move(model));
  if (kind == "command") return MakeCommandReader();
  return nullptr;
}

bool IsKnownReader(const std::string& kind) {
  return kind == "claude-code" || kind == "codex" || kind == "command";
}

}  // namespace pipeline
