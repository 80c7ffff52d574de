// Reader for Claude Code's `--output-format stream-json` (one JSON object per line).
#include <map>
#include <nlohmann/json.hpp>

#include "agent/output_reader.h"
#include "util/text.h"

namespace pipeline {
namespace {

double Num(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

class ClaudeReader final : public OutputReader {
 public:
  ClaudeReader(const PricingTable& pricing, std::optional<std::string> model)
      : pricing_(pricing), model_(std::move(model)) {}

  void OnLine(std::string_view line) override {
    if (line.empty() || line.front() != '{') return;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return;
    std::string type = j.value("type", "");
    if (type == "system" && j.contains("model") && j["model"].is_string() && !model_) {
      model_ = j["model"].get<std::string>();
    } else if (type == "assistant" && !final_) {
      OnAssistant(j);
    } else if (type == "result") {
      OnResult(j);
    }
  }

  double cost_cents() const override { return final_ ? final_cost_ : running_cost_; }
  int64_t turns() const override { return final_ ? final_turns_ : static_cast<int64_t>(messages_.size()); }
  std::optional<std::string> error() const override { return error_; }

 private:
  void OnAssistant(const nlohmann::json& j) {
    auto m = j.find("message");
    if (m == j.end() || !m->is_object()) return;
    std::string id = m->value("id", "");
    if (id.empty()) id = "#" + std::to_string(messages_.size());
    std::string model = m->contains("model") && (*m)["model"].is_string() ? (*m)["model"].get<std::string>()
                                                                           : model_.value_or("default");
    double cents = 0;
    if (auto u = m->find("usage"); u != m->end() && u->is_object()) {
      TokenUsage usage;
      usage.input = Num(*u, "input_tokens");
      usage.output = Num(*u, "output_tokens");
      usage.cache_read = Num(*u, "cache_read_input_tokens");
      usage.cache_write = Num(*u, "cache_creation_input_tokens");
      cents = pricing_.CostCents(model, usage);
    }
    // The same message arrives once per content block with the same usage: keep the latest.
    auto [it, inserted] = messages_.emplace(id, cents);
    running_cost_ += cents - (inserted ? 0.0 : it->second);
    it->second = cents;
  }

  void OnResult(const nlohmann::json& j) {
    final_ = true;
    final_cost_ = j.contains("total_cost_usd") && j["total_cost_usd"].is_number()
                      ? j["total_cost_usd"].get<double>() * 100.0
                      : running_cost_;
    final_turns_ = j.contains("num_turns") && j["num_turns"].is_number_integer()
                       ? j["num_turns"].get<int64_t>()
                       : static_cast<int64_t>(messages_.size());
    if (j.value("is_error", false)) {
      std::string why;
      if (j.contains("result") && j["result"].is_string()) why = j["result"].get<std::string>();
      if (why.empty()) why = j.value("subtype", std::string("error"));
      error_ = TruncateUtf8(SingleLine(why), 2000);
    }
  }

  const PricingTable& pricing_;
  std::optional<std::string> model_;
  std::map<std::string, double> messages_;  // message id -> its priced cost
  double running_cost_ = 0;
  bool final_ = false;
  double final_cost_ = 0;
  int64_t final_turns_ = 0;
  std::optional<std::string> error_;
};

}  // namespace

std::unique_ptr<OutputReader> MakeClaudeReader(const PricingTable& pricing, std::optional<std::string> model) {
  return std::make_unique<ClaudeReader>(pricing, std::move(model));
}

}  // namespace pipeline
