#include "store/db.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/root.h"
#include "store/schema.h"
#include "testutil/testutil.h"
#include "util/files.h"

namespace pipeline {
namespace {

std::unique_ptr<Db> OpenMemory() {
  auto db = Db::Open(":memory:", true);
  EXPECT_TRUE(db.ok()) << db.message();
  EXPECT_TRUE(Migrate(**db).ok());
  return std::move(db).value();
}

int64_t CountRows(Db& db, const char* table) {
  auto s = db.Prepare(std::string("SELECT count(*) FROM ") + table);
  EXPECT_TRUE(s.ok());
  EXPECT_TRUE(*s->Step());
  return s->Int(0);
}

TEST(DbTest, MigrateIsIdempotentAndVersioned) {
  auto db = OpenMemory();
  ASSERT_TRUE(Migrate(*db).ok());
  auto s = db->Prepare("PRAGMA user_version");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(*s->Step());
  EXPECT_EQ(s->Int(0), LatestSchemaVersion());
}

off_t WalBytes(const std::string& db_path) {
  struct stat st;
  return stat((db_path + "-wal").c_str(), &st) == 0 ? st.st_size : -1;
}

// Closing keeps the WAL (no checkpoint and fsyncs per short process), except
// after a huge transaction, whose WAL is folded back and truncated so the
// next process does not rebuild an index over all of it.
TEST(DbTest, CloseKeepsASmallWalAndTruncatesAHugeOne) {
  testing::TempDir dir;
  std::string path = dir / "s.db";
  {
    auto db = Db::Open(path, true);
    ASSERT_TRUE(db.ok()) << db.message();
    ASSERT_TRUE(Migrate(**db).ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO meta (key, value) VALUES ('small', 'x')").ok());
  }
  EXPECT_GT(WalBytes(path), 0) << "the WAL should outlive the connection";
  {
    auto db = Db::Open(path, true);
    ASSERT_TRUE(db.ok()) << db.message();
    // ~24 MB in one transaction: far past the size-triggered checkpoints.
    ASSERT_TRUE((*db)->Write([&]() -> Status {
      PL_RETURN_IF_ERROR((*db)->Exec("CREATE TABLE big (b BLOB)"));
      for (int i = 0; i < 24; ++i)
        PL_RETURN_IF_ERROR((*db)->Exec("INSERT INTO big (b) VALUES (zeroblob(1048576))"));
      return Status::Ok();
    }).ok());
    EXPECT_GT(WalBytes(path), 16 << 20);
  }
  EXPECT_EQ(WalBytes(path), 0) << "a huge WAL should be truncated at close";
  auto db = Db::Open(path, false);
  ASSERT_TRUE(db.ok()) << db.message();
  EXPECT_EQ(CountRows(**db, "big"), 24);
  EXPECT_EQ(CountRows(**db, "meta"), 2);
}

TEST(DbTest, RefusesANewerStore) {
  auto db = OpenMemory();
  ASSERT_TRUE(db->Exec("PRAGMA user_version = 999").ok());
  Status st = Migrate(*db);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("newer"), std::string::npos);
}

TEST(DbTest, WriteRollsBackOnError) {
  auto db = OpenMemory();
  Status st = db->Write([&]() -> Status {
    PL_RETURN_IF_ERROR(db->Exec("INSERT INTO meta (key, value) VALUES ('a', '1')"));
    return Refused("changed my mind");
  });
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(CountRows(*db, "meta"), 1);  // only next_task_seq
}

TEST(DbTest, NestedWriteJoinsTheOuterTransaction) {
  auto db = OpenMemory();
  Status st = db->Write([&]() -> Status {
    PL_RETURN_IF_ERROR(db->Write([&]() { return db->Exec("INSERT INTO meta (key, value) VALUES ('inner', '1')"); }));
    EXPECT_TRUE(db->in_transaction());
    return Conflict("outer fails");
  });
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(CountRows(*db, "meta"), 1);  // the inner insert went with the outer rollback
}

TEST(DbTest, ConstraintViolationIsAConflict) {
  auto db = OpenMemory();
  Stmt& s = db->Cached("INSERT INTO meta (key, value) VALUES (?, ?)");
  s.BindAll("next_task_seq", "5");
  Status st = s.Run();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.kind(), ErrorKind::kConflict);
}

TEST(DbTest, BindsAndReadsEveryType) {
  auto db = OpenMemory();
  ASSERT_TRUE(db->Exec("CREATE TABLE t (a INTEGER, b REAL, c TEXT, d TEXT)").ok());
  std::string binary("x\0y", 3);
  auto ins = db->Prepare("INSERT INTO t VALUES (?, ?, ?, ?)");
  ASSERT_TRUE(ins.ok());
  ASSERT_TRUE(ins->BindAll(int64_t{1} << 40, 2.5, binary, std::nullopt).Run().ok());
  auto sel = db->Prepare("SELECT a, b, c, d FROM t");
  ASSERT_TRUE(sel.ok());
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->Int(0), int64_t{1} << 40);
  EXPECT_DOUBLE_EQ(sel->Double(1), 2.5);
  EXPECT_EQ(sel->Text(2), binary);
  EXPECT_FALSE(sel->OptText(3).has_value());
}

TEST(StoreTest, FindRootWalksUpAndExplainsAbsence) {
  testing::TempDir dir;
  RootPaths paths{dir.path() + "/.pipeline"};
  ASSERT_TRUE(CreateStore(paths).ok());
  std::string deep = dir.path() + "/a/b";
  ASSERT_TRUE(MakeDirs(deep).ok());
  char old[4096];
  ASSERT_NE(getcwd(old, sizeof old), nullptr);
  ASSERT_EQ(chdir(deep.c_str()), 0);
  unsetenv("PIPELINE_ROOT");
  auto found = FindRoot(std::nullopt);
  ASSERT_EQ(chdir(old), 0);
  ASSERT_TRUE(found.ok()) << found.message();
  EXPECT_EQ(found->root, paths.root);

  auto missing = OpenStore(RootPaths{dir.path() + "/nowhere/.pipeline"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("pipeline init"), std::string::npos);
}

// A writer killed with SIGKILL in the middle of a batch leaves a store that
// opens, passes integrity_check, and holds whole transactions only.
TEST(StoreTest, KillDuringWritesLeavesWholeTransactions) {
  testing::TempDir dir;
  RootPaths paths{dir.path() + "/.pipeline"};
  ASSERT_TRUE(CreateStore(paths).ok());
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto db = OpenStore(paths);
    if (!db.ok()) _exit(3);
    for (int i = 0;; ++i) {
      // Each transaction writes a pair of rows that must appear together.
      (void)(*db)->Write([&]() -> Status {
        Stmt& s = (*db)->Cached("INSERT INTO events (at, kind, detail) VALUES (?, 'pair', ?)");
        s.BindAll(int64_t{i}, "first");
        PL_RETURN_IF_ERROR(s.Run());
        s.Reset();
        s.BindAll(int64_t{i}, "second");
        return s.Run();
      });
    }
  }
  usleep(150 * 1000);
  kill(child, SIGKILL);
  int status;
  waitpid(child, &status, 0);
  auto db = OpenStore(paths);
  ASSERT_TRUE(db.ok()) << db.message();
  auto check = (*db)->Prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.ok());
  ASSERT_TRUE(*check->Step());
  EXPECT_EQ(check->Text(0), "ok");
  auto pairs = (*db)->Prepare("SELECT count(*) FROM (SELECT at FROM events GROUP BY at HAVING count(*) != 2)");
  ASSERT_TRUE(pairs.ok());
  ASSERT_TRUE(*pairs->Step());
  EXPECT_EQ(pairs->Int(0), 0);
  EXPECT_GT(CountRows(**db, "events"), 0);
}

}  // namespace
}  // namespace pipeline
