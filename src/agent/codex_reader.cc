// Reader for `codex exec --json` (JSONL events; usage arrives per turn).
#include <nlohmann/json.hpp>

#include "agent/output_reader.h"
#include "util/text.h"

namespace pipeline {
namespace {

double Num(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

class CodexReader final : public OutputReader {
 public:
  CodexReader(const PricingTable& pricing, std::optional<std::string> model)
      : pricing_(pricing), model_(model.value_or("gpt-5")) {}

  void OnLine(std::string_view line) override {
    if (line.empty() || line.front() != '{') return;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return;
    std::string type = j.value("type", "");
    if (type == "turn.completed") {
      ++turns_;
      auto u = j.find("usage");
      if (u == j.end() || !u->is_object()) return;
      // OpenAI counts cached tokens inside input_tokens.
      double cached = Num(*u, "cached_input_tokens");
      TokenUsage usage;
      usage.input = std::max(0.0, Num(*u, "input_tokens") - cached);
      usage.cache_read = cached;
      usage.output = Num(*u, "output_tokens");
      cost_ += pricing_.CostCents(model_, usage);
    } else if (type == "turn.failed") {
      auto e = j.find("error");
      if (e != j.end() && e->is_object() && e->contains("message") && (*e)["message"].is_string())
        error_ = TruncateUtf8(SingleLine((*e)["message"].get<std::string>()), 2000);
      else
        error_ = "turn failed";
    } else if (type == "error" && j.contains("message") && j["message"].is_string()) {
      error_ = TruncateUtf8(SingleLine(j["message"].get<std::string>()), 2000);
    }
  }

  double cost_cents() const override { return cost_; }
  int64_t turns() const override { return turns_; }
  std::optional<std::string> error() const override { return error_; }

 private:
  const PricingTable& pricing_;
  std::string model_;
  double cost_ = 0;
  int64_t turns_ = 0;
  std::optional<std::string> error_;
};

}  // namespace

std::unique_ptr<OutputReader> MakeCodexReader(const PricingTable& pricing, std::optional<std::string> model) {
  return std::make_unique<CodexReader>(pricing, std::move(model));
}

}  // namespace pipeline
