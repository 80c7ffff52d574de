// Reader for any program: `cost_cents: N` and `turns: N` lines.
#include <cmath>
#include <cstdlib>

#include "agent/output_reader.h"
#include "util/text.h"

namespace pipeline {
namespace {

std::optional<double> ParseNumber(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v) || v < 0) return std::nullopt;
  return v;
}

class CommandReader final : public OutputReader {
 public:
  void OnLine(std::string_view line) override {
    std::string t = Trim(line);
    size_t colon = t.find(':');
    if (colon == std::string::npos) return;
    std::string key = Trim(t.substr(0, colon));
    std::string value = Trim(t.substr(colon + 1));
    if (key == "cost_cents") {
      if (auto v = ParseNumber(value)) cost_ = *v;
    } else if (key == "turns") {
      if (auto v = ParseInt64(value); v && *v >= 0) turns_ = *v;
    }
  }
  double cost_cents() const override { return cost_; }
  int64_t turns() const override { return turns_; }

 private:
  double cost_ = 0;
  int64_t turns_ = 0;
};

}  // namespace

std::unique_ptr<OutputReader> MakeCommandReader() { return std::make_unique<CommandReader>(); }

}  // namespace pipeline
