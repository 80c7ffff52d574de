// For unit tests: a fresh in-memory store at the latest schema.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "store/db.h"
#include "store/schema.h"

namespace pipeline::store_testing {

// nullptr (with the reason as a test failure) when it cannot be opened.
inline std::unique_ptr<Db> OpenMemoryStore() {
  auto db = Db::Open(":memory:", true);
  if (!db.ok()) {
    ADD_FAILURE() << db.message();
    return nullptr;
  }
  std::unique_ptr<Db> out = std::move(db).value();
  if (Status s = Migrate(*out); !s.ok()) {
    ADD_FAILURE() << s.message();
    return nullptr;
  }
  return out;
}

}  // namespace pipeline::store_testing
