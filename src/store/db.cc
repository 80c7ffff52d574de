#include "store/db.h"

#include <sys/stat.h>
#include <time.h>

#include <cstdio>
#include <unordered_map>

#include "util/log.h"

namespace pipeline {

struct Db::Cache {
  std::unordered_map<const char*, Stmt> stmts;
  std::unordered_map<std::string, Stmt> by_text;
};

namespace {

// SQLite's default busy handler sleeps in growing steps and can starve one
// writer for seconds while others keep winning (measured: max 4 s with 8
// writers). Short, flat sleeps keep the tail near the transaction time.
int BusyHandler(void*, int count) {
  constexpr int kMaxTries = 200000;  // ~ 20+ s at 100 us
  if (count >= kMaxTries) return 0;
  struct timespec ts {0, (count < 100 ? 50 : 200) * 1000L};
  nanosleep(&ts, nullptr);
  return 1;
}

}  // namespace

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, bool create) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    if (rc == SQLITE_CANTOPEN) return NotFound("cannot open store " + path + ": " + msg);
    return IOError("cannot open store " + path + ": " + msg);
  }
  std::unique_ptr<Db> db(new Db(raw, path));
  db->cache_ = std::make_unique<Cache>();
  sqlite3_busy_handler(raw, BusyHandler, nullptr);
  sqlite3_extended_result_codes(raw, 1);
  // No checkpoint when the last connection closes. With it, every short CLI
  // process (each `task claim`, `agent run`, monitor) that closes the store
  // last checkpointed and deleted the WAL, and the next one recreated it:
  // a WAL header fsync plus a directory fsync per process, tens of ms on
  // ordinary disks. The WAL is kept and checkpointed by size instead
  // (wal_autocheckpoint, 1000 pages), so its contents are part of the store:
  // copy pipeline.db together with pipeline.db-wal (or use sqlite3 .backup).
  sqlite3_db_config(raw, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  // WAL: readers never block the writer. synchronous=NORMAL in WAL is durable
  // against process crashes (kill -9); only an OS crash can lose the last
  // transactions, never corrupt the file.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON",
                             "PRAGMA temp_store=MEMORY"}) {
    Status s = db->Exec(pragma);
    if (!s.ok()) return s.error();
  }
  return db;
}

Result<std::unique_ptr<Db>> Db::OpenReadOnly(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return NotFound("cannot open store " + path + ": no such file");
  bool wal = stat((path + "-wal").c_str(), &st) == 0;
  // A URI, so the file name must be percent-encoded where it matters.
  std::string uri = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      char buf[4];
      snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      uri += buf;
    } else {
      uri += c;
    }
  }
  uri += wal ? "?mode=ro" : "?immutable=1";
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(uri.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return IOError("cannot open store " + path + " read-only: " + msg);
  }
  std::unique_ptr<Db> db(new Db(raw, path));
  db->cache_ = std::make_unique<Cache>();
  sqlite3_busy_handler(raw, BusyHandler, nullptr);
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

Db::Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

Db::~Db() {
  cache_.reset();
  TruncateLargeWal();
  sqlite3_close_v2(db_);
}

// The WAL is kept when a connection closes (see Open), and size-triggered
// checkpoints keep it near 4 MB. One huge transaction (a big `task import`)
// leaves it much larger, and every process that then opens the store first
// on its own rebuilds its index from the whole file. So the connection that
// sees such a WAL at close folds it into the database and truncates it: an
// fsync now and then, after big writes only. Never waits: if another
// connection is busy, the next one to close tries again.
void Db::TruncateLargeWal() {
  constexpr off_t kLargeWalBytes = 16 << 20;
  if (path_.empty() || path_ == ":memory:" || sqlite3_db_readonly(db_, "main") != 0) return;
  struct stat st;
  if (stat((path_ + "-wal").c_str(), &st) != 0 || st.st_size < kLargeWalBytes) return;
  sqlite3_busy_handler(db_, nullptr, nullptr);
  (void)sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
}

Error Db::LastError(std::string_view what) const {
  int code = sqlite3_errcode(db_);
  std::string msg = std::string(what) + ": " + sqlite3_errmsg(db_);
  if ((code & 0xff) == SQLITE_CONSTRAINT) return Conflict(msg);
  return IOError(msg);
}

Status Db::Exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return IOError("sqlite: " + msg);
  }
  return Status::Ok();
}

Result<Stmt> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) return LastError("prepare " + std::string(sql.substr(0, 60)));
  return Stmt(this, s);
}

Stmt& Db::Cached(const char* sql) {
  auto it = cache_->stmts.find(sql);
  if (it == cache_->stmts.end()) {
    auto r = Prepare(sql);
    // A statement that does not prepare is a programming error in our SQL.
    if (!r.ok()) {
      Log("internal error: {}", r.message());
      abort();
    }
    it = cache_->stmts.emplace(sql, std::move(r).value()).first;
  }
  it->second.Reset();
  return it->second;
}

Result<Stmt*> Db::CachedText(const std::string& sql) {
  auto it = cache_->by_text.find(sql);
  if (it == cache_->by_text.end()) {
    PL_ASSIGN_OR_RETURN(Stmt s, Prepare(sql));
    if (cache_->by_text.size() >= kMaxTextStatements) cache_->by_text.clear();
    it = cache_->by_text.emplace(sql, std::move(s)).first;
  }
  it->second.Reset();
  return &it->second;
}

int64_t Db::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
int Db::Changes() const { return sqlite3_changes(db_); }

int64_t Db::DataVersion() {
  Stmt& s = Cached("PRAGMA data_version");
  auto r = s.Step();
  int64_t v = (r.ok() && *r) ? s.Int(0) : -1;
  s.Reset();
  return v;
}

Status Db::Write(const std::function<Status()>& fn) {
  if (in_tx_) return fn();  // nested: part of the enclosing transaction
  PL_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  in_tx_ = true;
  Status s;
  try {
    s = fn();
  } catch (...) {
    Exec("ROLLBACK").ok();
    in_tx_ = false;
    throw;
  }
  if (s.ok()) s = Exec("COMMIT");
  if (!s.ok()) (void)Exec("ROLLBACK");
  in_tx_ = false;
  return s;
}

Status Db::Read(const std::function<Status()>& fn) {
  if (in_tx_) return fn();
  PL_RETURN_IF_ERROR(Exec("BEGIN"));
  in_tx_ = true;
  Status s;
  try {
    s = fn();
  } catch (...) {
    (void)Exec("ROLLBACK");
    in_tx_ = false;
    throw;
  }
  (void)Exec(s.ok() ? "COMMIT" : "ROLLBACK");
  in_tx_ = false;
  return s;
}

Stmt::~Stmt() {
  if (s_) sqlite3_finalize(s_);
}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    if (s_) sqlite3_finalize(s_);
    db_ = o.db_;
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}

Stmt& Stmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, double v) {
  sqlite3_bind_double(s_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, std::string_view v) {
  sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::Bind(int i, std::nullopt_t) { return BindNull(i); }
Stmt& Stmt::Bind(int i, const std::optional<std::string>& v) { return v ? Bind(i, *v) : BindNull(i); }
Stmt& Stmt::Bind(int i, const std::optional<int64_t>& v) { return v ? Bind(i, *v) : BindNull(i); }
Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(s_, i);
  return *this;
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error e = db_->LastError("sqlite step");
  sqlite3_reset(s_);
  return e;
}

Status Stmt::Run() {
  while (true) {
    auto r = Step();
    if (!r.ok()) return r.error();
    if (!*r) break;
  }
  sqlite3_reset(s_);
  return Status::Ok();
}

Result<std::vector<std::string>> Stmt::TextColumn() {
  std::vector<std::string> out;
  while (true) {
    PL_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) break;
    out.push_back(Text(0));
  }
  sqlite3_reset(s_);
  return out;
}

void Stmt::Reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

int64_t Stmt::Int(int col) const { return sqlite3_column_int64(s_, col); }
double Stmt::Double(int col) const { return sqlite3_column_double(s_, col); }
std::string Stmt::Text(int col) const {
  const unsigned char* t = sqlite3_column_text(s_, col);
  int n = sqlite3_column_bytes(s_, col);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(n)) : std::string();
}
std::optional<std::string> Stmt::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}
std::optional<int64_t> Stmt::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}
bool Stmt::IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

}  // namespace pipeline
