// A thin RAII layer over SQLite. One Db is one connection; it is not shared
// between threads. Every change goes through a WriteTx (BEGIN IMMEDIATE), so
// a process killed at any instruction leaves either all or none of it.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace pipeline {

class Stmt;

class Db {
 public:
  // Opens (creating if asked) the database at path, in WAL mode with a short-
  // sleep busy handler, foreign keys on. ":memory:" gives a private database.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, bool create);
  // Opens an existing database for reading only, changing no file under its
  // directory (for --dry-run and status): when no WAL file exists the file is
  // opened immutable (SQLite would otherwise create -wal/-shm files); when
  // one exists (a writer is active) it is read through it. No migration.
  static Result<std::unique_ptr<Db>> OpenReadOnly(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Status Exec(std::string_view sql);
  Result<Stmt> Prepare(std::string_view sql);
  // A statement prepared once per connection and reused (cleared on return).
  Stmt& Cached(const char* sql);
  // The same for a statement whose text is put together at run time (a
  // fixed head and a chosen WHERE): kept by its text, at most
  // kMaxTextStatements of them (then the cache starts again). Unlike
  // Cached, a text that does not prepare is an error returned. The pointer
  // is good until the next CachedText call: step it to the end first.
  Result<Stmt*> CachedText(const std::string& sql);
  static constexpr size_t kMaxTextStatements = 64;

  int64_t LastInsertRowid() const;
  int Changes() const;
  sqlite3* raw() { return db_; }
  const std::string& path() const { return path_; }
  // Incremented whenever another connection commits (PRAGMA data_version).
  int64_t DataVersion();
  bool in_transaction() const { return in_tx_; }

  // Runs fn inside BEGIN IMMEDIATE ... COMMIT. Rolls back when fn returns an
  // error or throws. SQLITE_BUSY beyond the busy timeout is returned as kIO.
  Status Write(const std::function<Status()>& fn);
  // A read snapshot (BEGIN DEFERRED): every query in fn sees one state.
  Status Read(const std::function<Status()>& fn);

  Error LastError(std::string_view what) const;

 private:
  Db(sqlite3* db, std::string path);
  void TruncateLargeWal();
  sqlite3* db_;
  std::string path_;
  bool in_tx_ = false;
  struct Cache;
  std::unique_ptr<Cache> cache_;
};

// A prepared statement. Bind parameters are 1-based, as in SQLite.
class Stmt {
 public:
  Stmt() = default;
  Stmt(Db* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  ~Stmt();
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;

  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  Stmt& Bind(int i, double v);
  Stmt& Bind(int i, std::string_view v);
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, std::nullopt_t);
  Stmt& Bind(int i, const std::optional<std::string>& v);
  Stmt& Bind(int i, const std::optional<int64_t>& v);
  Stmt& BindNull(int i);

  // Binds every argument in order, starting at 1.
  template <typename... Args>
  Stmt& BindAll(const Args&... args) {
    int i = 0;
    (Bind(++i, args), ...);
    return *this;
  }

  // Steps once: true when a row is available, false when done. Errors are returned.
  Result<bool> Step();
  // Steps to completion (for statements without rows).
  Status Run();
  // Steps to completion, collecting the first column of every row as text.
  Result<std::vector<std::string>> TextColumn();
  void Reset();

  int64_t Int(int col) const;
  double Double(int col) const;
  std::string Text(int col) const;
  std::optional<std::string> OptText(int col) const;
  std::optional<int64_t> OptInt(int col) const;
  bool IsNull(int col) const;

 private:
  Db* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
};

// Calls f(s) for every row s steps to; stops at the first error.
template <typename F>
Status EachRow(Stmt& s, F f) {
  while (true) {
    PL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::Ok();
    f(s);
  }
}

}  // namespace pipeline
