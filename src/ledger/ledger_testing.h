// Test helper: compares the running totals in domains (schema v4) with the
// sums recomputed from the holds and ledger rows they summarise.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/db.h"

namespace pipeline::ledger_testing {

// The single integer a query returns (-1, and a test failure, if it fails).
inline int64_t One(Db& db, const std::string& sql) {
  auto s = db.Prepare(sql);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return -1;
  auto row = s->Step();
  EXPECT_TRUE(row.ok() && *row) << sql;
  return s->Int(0);
}

struct TotalsMismatch {
  std::string domain;
  int64_t held_total, held_sum, spent_total, spent_sum;
};

// Every domains row whose totals differ from its rows' sums (empty when all agree).
inline std::vector<TotalsMismatch> TotalsMismatches(Db& db) {
  std::vector<TotalsMismatch> out;
  auto s = db.Prepare(
      "SELECT d.domain, d.held_cents, "
      "  (SELECT COALESCE(SUM(h.cents), 0) FROM holds h WHERE h.domain = d.domain AND h.state = 'held'), "
      "  d.spent_cents, "
      "  (SELECT COALESCE(SUM(l.cents), 0) FROM ledger l WHERE l.domain = d.domain AND l.kind = 'spend') "
      "FROM domains d ORDER BY d.domain");
  if (!s.ok()) {
    out.push_back({"<query failed: " + s.message() + ">", 0, 0, 0, 0});
    return out;
  }
  while (true) {
    auto row = s->Step();
    if (!row.ok()) {
      out.push_back({"<step failed: " + row.message() + ">", 0, 0, 0, 0});
      break;
    }
    if (!*row) break;
    TotalsMismatch m{s->Text(0), s->Int(1), s->Int(2), s->Int(3), s->Int(4)};
    if (m.held_total != m.held_sum || m.spent_total != m.spent_sum) out.push_back(std::move(m));
  }
  return out;
}

inline std::string Describe(const std::vector<TotalsMismatch>& ms) {
  std::string out;
  for (const auto& m : ms)
    out += m.domain + ": held " + std::to_string(m.held_total) + " vs sum " + std::to_string(m.held_sum) +
           ", spent " + std::to_string(m.spent_total) + " vs sum " + std::to_string(m.spent_sum) + "\n";
  return out;
}

}  // namespace pipeline::ledger_testing
