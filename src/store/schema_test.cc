#include "store/schema.h"

#include <gtest/gtest.h>

namespace pipeline {
namespace {

int64_t UserVersion(Db& db) {
  auto s = db.Prepare("PRAGMA user_version");
  EXPECT_TRUE(s.ok() && *s->Step());
  return s->Int(0);
}

TEST(SchemaTest, MigrateToStopsAtTheVersionAskedAndMigrateFinishes) {
  auto db = std::move(Db::Open(":memory:", true)).value();
  ASSERT_TRUE(MigrateTo(*db, 2).ok());
  EXPECT_EQ(UserVersion(*db), 2);
  ASSERT_TRUE(MigrateTo(*db, 1).ok());  // never goes back
  EXPECT_EQ(UserVersion(*db), 2);
  EXPECT_EQ(MigrateTo(*db, LatestSchemaVersion() + 1).kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(UserVersion(*db), 2);
  ASSERT_TRUE(Migrate(*db).ok());
  EXPECT_EQ(UserVersion(*db), LatestSchemaVersion());
}

// v4 adds the domains' running totals and the triggers that keep them.
TEST(SchemaTest, Version4AddsTotalsAndTheirTriggers) {
  auto db = std::move(Db::Open(":memory:", true)).value();
  ASSERT_TRUE(MigrateTo(*db, 4).ok());
  EXPECT_TRUE(db->Prepare("SELECT held_cents, spent_cents FROM domains").ok());
  auto s = db->Prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_totals_%'");
  ASSERT_TRUE(s.ok() && *s->Step());
  EXPECT_EQ(s->Int(0), 8);
}

}  // namespace
}  // namespace pipeline
