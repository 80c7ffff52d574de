// The store's schema and its migrations. The version lives in PRAGMA
// user_version; each migration runs in its own transaction, so a crash mid-
// upgrade leaves the previous version intact.
#pragma once

#include "store/db.h"

namespace pipeline {

int LatestSchemaVersion();
// Brings db up to the latest version. Refuses a store newer than this binary.
Status Migrate(Db& db);
// Brings db up to version target (<= latest) and no further; a store already
// at or past it is left alone. For tests that need an older store to migrate.
Status MigrateTo(Db& db, int target);

}  // namespace pipeline
