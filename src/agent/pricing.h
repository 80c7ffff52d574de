// What tokens cost, per model, so a run's cost is known while it runs (the
// agent CLIs report their own total only at the end). Built-in prices for a
// few well-known models; config `[pricing."MODEL"]` adds or overrides them.
#pragma once

#include <map>
#include <string>

#include "config/config.h"
#include "util/status.h"

namespace pipeline {

// US dollars per million tokens.
struct ModelPrice {
  double input = 0, output = 0, cache_read = 0, cache_write = 0;
};

struct TokenUsage {
  double input = 0;        // uncached input tokens
  double output = 0;
  double cache_read = 0;
  double cache_write = 0;
};

class PricingTable {
 public:
  // The built-in table.
  PricingTable();
  // Built-ins plus `[pricing."MODEL"] input_usd_per_mtok, output_usd_per_mtok,
  // cache_read_usd_per_mtok, cache_write_usd_per_mtok` (missing keys: 0).
  static Result<PricingTable> FromConfig(const Config& config);

  void Set(const std::string& model, const ModelPrice& price) { prices_[model] = price; }
  // The longest known name that model starts with ("claude-sonnet-4-5-20250929"
  // -> "claude-sonnet-4-5"); else the "default" entry, which is priced like a
  // mid-range model so that an unknown model is never free.
  ModelPrice Lookup(const std::string& model) const;
  double CostCents(const std::string& model, const TokenUsage& usage) const;

 private:
  std::map<std::string, ModelPrice> prices_;
};

}  // namespace pipeline
