// Money as the ledger sees it: integer cents, parsed strictly, and the one
// place where an agent's fractional cost becomes whole cents.
#pragma once

#include <cstdint>
#include <string_view>

#include "util/status.h"

namespace pipeline {

// The largest amount any single value (a grant, a budget, a hold, a spend)
// may carry: ten trillion dollars. Keeping every value this far below
// INT64_MAX leaves room for SQLite's SUM over millions of rows.
constexpr int64_t kMaxCents = 1'000'000'000'000'000;

// Strict cents from user text: ASCII digits only ("0".."1000000000000000").
// "", "-1", "+1", "12.5", "1e3", " 7", "abc" and overflowing values are
// kInvalidArgument naming `what` (e.g. "--cents").
Result<int64_t> ParseCents(std::string_view text, std::string_view what);

// Rejects a negative or too-large amount that came through the library API.
Status CheckCents(int64_t cents, std::string_view what);

// A run's reported cost (REAL cents) as the whole cents the ledger settles.
// Rounds UP: the ledger must never under-count money, and the seed's
// half-to-even `round` dropped half a cent on every other run (2.5 -> 2).
// The 1e-9 slack absorbs floating-point noise from summing fractional costs
// (123.0000000001 -> 123, not 124). Negative or NaN costs are 0; costs past
// kMaxCents (including +inf) are kMaxCents.
int64_t CentsForSettlement(double cost_cents);

// Domains, run ids and task ids are data and stored verbatim, but they must
// be non-empty UTF-8 without control characters (a newline in a name would
// forge lines in every log and table that prints it).
Status ValidateName(std::string_view value, std::string_view what);

}  // namespace pipeline
