#include "ledger/money.h"

#include <cmath>
#include <string>

#include "util/text.h"

namespace pipeline {

Result<int64_t> ParseCents(std::string_view text, std::string_view what) {
  std::string name(what);
  if (text.empty()) return InvalidArgument(name + " is empty; expected whole cents (e.g. 300)");
  for (char c : text) {
    if (c < '0' || c > '9')
      return InvalidArgument(name + " must be a non-negative whole number of cents, not " + Quoted(text));
  }
  // Digits only, so the one failure left is overflow.
  auto v = ParseInt64(text);
  if (!v || *v > kMaxCents)
    return InvalidArgument(name + " " + Quoted(text) + " is too large (max " + std::to_string(kMaxCents) + ")");
  return *v;
}

Status CheckCents(int64_t cents, std::string_view what) {
  if (cents < 0) return InvalidArgument(std::string(what) + " must not be negative (" + std::to_string(cents) + ")");
  if (cents > kMaxCents)
    return InvalidArgument(std::string(what) + " " + std::to_string(cents) + " is too large (max " +
                           std::to_string(kMaxCents) + ")");
  return Status::Ok();
}

int64_t CentsForSettlement(double cost_cents) {
  if (std::isnan(cost_cents) || cost_cents <= 0) return 0;
  if (cost_cents >= static_cast<double>(kMaxCents)) return kMaxCents;
  double up = std::ceil(cost_cents - 1e-9);
  return up < 0 ? 0 : static_cast<int64_t>(up);
}

Status ValidateName(std::string_view value, std::string_view what) {
  std::string name(what);
  if (value.empty()) return InvalidArgument(name + " is empty");
  if (value.size() > 4096) return InvalidArgument(name + " is longer than 4096 bytes");
  if (!IsValidUtf8(value)) return InvalidArgument(name + " is not valid UTF-8");
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return InvalidArgument(name + " contains a control character: " + Quoted(value));
  }
  return Status::Ok();
}

}  // namespace pipeline
