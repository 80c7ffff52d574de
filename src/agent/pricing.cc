#include "agent/pricing.h"

namespace pipeline {

PricingTable::PricingTable() {
  // Public list prices (USD per million tokens): input, output, cache read, cache write.
  prices_ = {
      {"default", {3.0, 15.0, 0.30, 3.75}},
      {"claude-opus-4", {15.0, 75.0, 1.50, 18.75}},
      {"claude-opus-4-1", {15.0, 75.0, 1.50, 18.75}},
      {"claude-opus-4-5", {5.0, 25.0, 0.50, 6.25}},
      {"claude-sonnet-4", {3.0, 15.0, 0.30, 3.75}},
      {"claude-sonnet-4-5", {3.0, 15.0, 0.30, 3.75}},
      {"claude-3-7-sonnet", {3.0, 15.0, 0.30, 3.75}},
      {"claude-3-5-haiku", {0.80, 4.0, 0.08, 1.0}},
      {"claude-haiku-4-5", {1.0, 5.0, 0.10, 1.25}},
      {"gpt-5", {1.25, 10.0, 0.125, 0}},
      {"gpt-5-codex", {1.25, 10.0, 0.125, 0}},
      {"gpt-5-mini", {0.25, 2.0, 0.025, 0}},
      {"gpt-5-nano", {0.05, 0.40, 0.005, 0}},
      {"gpt-4.1", {2.0, 8.0, 0.50, 0}},
      {"gpt-4.1-mini", {0.40, 1.60, 0.10, 0}},
      {"o3", {2.0, 8.0, 0.50, 0}},
      {"o4-mini", {1.10, 4.40, 0.275, 0}},
  };
}

Result<PricingTable> PricingTable::FromConfig(const Config& config) {
  PricingTable t;
  for (const std::string& model : config.Keys("pricing")) {
    std::string base = "pricing.\"" + model + "\".";
    ModelPrice p;
    PL_ASSIGN_OR_RETURN(p.input, config.DoubleOr(base + "input_usd_per_mtok", 0));
    PL_ASSIGN_OR_RETURN(p.output, config.DoubleOr(base + "output_usd_per_mtok", 0));
    PL_ASSIGN_OR_RETURN(p.cache_read, config.DoubleOr(base + "cache_read_usd_per_mtok", 0));
    PL_ASSIGN_OR_RETURN(p.cache_write, config.DoubleOr(base + "cache_write_usd_per_mtok", 0));
    t.Set(model, p);
  }
  return t;
}

ModelPrice PricingTable::Lookup(const std::string& model) const {
  const ModelPrice* best = nullptr;
  size_t best_len = 0;
  for (const auto& [name, price] : prices_) {
    if (name == "default" || name.size() < best_len) continue;
    if (model.compare(0, name.size(), name) == 0) best = &price, best_len = name.size();
  }
  if (best) return *best;
  auto it = prices_.find("default");
  return it != prices_.end() ? it->second : ModelPrice{};
}

double PricingTable::CostCents(const std::string& model, const TokenUsage& u) const {
  ModelPrice p = Lookup(model);
  double usd = (u.input * p.input + u.output * p.output + u.cache_read * p.cache_read +
                u.cache_write * p.cache_write) / 1e6;
  return usd * 100.0;
}

}  // namespace pipeline
