#include "tasks/task_store.h"

#include "util/text.h"

namespace pipeline {

namespace {

constexpr char kColumns[] =
    "SELECT id, seq, title, type, parent, namespace, status, patchset, priority, complexity, description, "
    "created_at, updated_at, not_before, retries, feedback FROM tasks ";

// The store holds the canonical names; "open" first, as `ready` reads only those.
TaskStatus StatusFromDb(const std::string& s) {
  if (s == "open") return TaskStatus::kOpen;
  return ParseTaskStatus(s).value_or(TaskStatus::kOpen);
}

// Fills t in place: `ready` reads tens of thousands of rows, and a Task costs
// as much to move as to fill.
void RowToTask(const Stmt& s, Task& t) {
  t.id = s.Text(0);
  t.seq = s.Int(1);
  t.title = s.Text(2);
  t.type = s.Text(3);
  t.parent = s.OptText(4);
  t.ns = s.OptText(5);
  t.status = StatusFromDb(s.Text(6));
  t.patchset = s.Int(7);
  t.priority = static_cast<int>(s.Int(8));
  if (auto c = s.OptInt(9)) t.complexity = static_cast<int>(*c);
  t.description = s.Text(10);
  t.created_at = s.Int(11);
  t.updated_at = s.Int(12);
  t.not_before = s.Int(13);
  t.retries = s.Int(14);
  t.feedback = s.OptText(15);
}

}  // namespace

TaskStore::TaskStore(Db& db, Clock& clock) : db_(db), clock_(clock) {}

Status TaskStore::RequireExists(const std::string& id, const char* what) {
  Stmt& s = db_.Cached("SELECT 1 FROM tasks WHERE id = ?");
  s.Bind(1, id);
  PL_ASSIGN_OR_RETURN(bool found, s.Step());
  s.Reset();
  if (!found) return NotFound(std::string("no ") + what + " " + Quoted(id));
  return Status::Ok();
}

Status TaskStore::Touch(const std::string& id) {
  return db_.Cached("UPDATE tasks SET updated_at = ? WHERE id = ?").BindAll(clock_.Now(), id).Run();
}

Status TaskStore::Rows(const std::string& where_and_order, const std::vector<std::string>& binds,
                       std::vector<Task>* out) {
  return Rows(
      where_and_order,
      [&](Stmt& s) {
        for (size_t i = 0; i < binds.size(); ++i) s.Bind(static_cast<int>(i + 1), binds[i]);
      },
      out);
}

Status TaskStore::Rows(const std::string& where_and_order, const std::function<void(Stmt&)>& bind,
                       std::vector<Task>* out) {
  // The scheduler asks the same few questions every step: prepared once.
  PL_ASSIGN_OR_RETURN(Stmt * s, db_.CachedText(std::string(kColumns) + where_and_order));
  bind(*s);
  while (true) {
    PL_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    RowToTask(*s, out->emplace_back());
  }
  s->Reset();
  return Status::Ok();
}

Result<std::vector<Task>> TaskStore::Query(const std::string& where_and_order,
                                           const std::vector<std::string>& binds) {
  std::vector<Task> out;
  Status st = db_.Read([&]() -> Status {
    PL_RETURN_IF_ERROR(Rows(where_and_order, binds, &out));
    return LoadDetails(&out);
  });
  if (!st.ok()) return st.error();
  return out;
}

Status TaskStore::InsertTask(const Task& t) {
  Stmt& q = db_.Cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM tasks");
  PL_RETURN_IF_ERROR(q.Step().status());
  int64_t seq = q.Int(0);
  q.Reset();
  std::optional<int64_t> complexity;
  if (t.complexity) complexity = *t.complexity;
  PL_RETURN_IF_ERROR(db_.Cached("INSERT INTO tasks (id, seq, title, type, parent, namespace, status, patchset, "
                                "priority, complexity, description, created_at, updated_at) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                         .BindAll(t.id, seq, t.title, t.type, t.parent, t.ns, TaskStatusName(t.status), t.patchset,
                                  t.priority, complexity, t.description, t.created_at, t.updated_at)
                         .Run());
  for (const auto& d : t.deps)
    PL_RETURN_IF_ERROR(db_.Cached("INSERT INTO task_deps (task_id, depends_on) VALUES (?, ?)").BindAll(t.id, d).Run());
  for (const auto& tag : t.tags)
    PL_RETURN_IF_ERROR(db_.Cached("INSERT OR IGNORE INTO task_tags (task_id, tag) VALUES (?, ?)").BindAll(t.id, tag).Run());
  for (const auto& c : t.comments)
    PL_RETURN_IF_ERROR(db_.Cached("INSERT INTO comments (task_id, text, author, created_at) VALUES (?, ?, ?, ?)")
                           .BindAll(t.id, c.text, c.author, c.created_at)
                           .Run());
  return Status::Ok();
}

Result<Task> TaskStore::Create(const NewTask& n) {
  PL_RETURN_IF_ERROR(ValidateLine("title", n.title));
  if (n.type != "work" && n.type != "epic") return InvalidArgument("invalid type " + Quoted(n.type) + " (work or epic)");
  if (n.priority < 0 || n.priority > 4) return InvalidArgument("invalid priority (P0..P4)");
  if (n.complexity && (*n.complexity < 1 || *n.complexity > 5)) return InvalidArgument("invalid complexity (1..5)");
  if (n.ns) PL_RETURN_IF_ERROR(ValidateLine("namespace", *n.ns));
  PL_RETURN_IF_ERROR(ValidateText("description", n.description));
  for (const auto& tag : n.tags) PL_RETURN_IF_ERROR(ValidateLine("tag", tag));
  Task t;
  Status st = db_.Write([&]() -> Status {
    if (n.parent) PL_RETURN_IF_ERROR(RequireExists(*n.parent, "parent task"));
    for (const auto& d : n.deps) PL_RETURN_IF_ERROR(RequireExists(d, "dependency"));
    Stmt& m = db_.Cached("SELECT value FROM meta WHERE key = 'next_task_seq'");
    PL_ASSIGN_OR_RETURN(bool row, m.Step());
    int64_t next = row ? ParseInt64(m.Text(0)).value_or(1) : 1;
    m.Reset();
    // An imported task may already hold "t-N"; skip to a free one.
    while (RequireExists("t-" + std::to_string(next)).ok()) ++next;
    t.id = "t-" + std::to_string(next);
    PL_RETURN_IF_ERROR(db_.Cached("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_task_seq', ?)")
                           .BindAll(std::to_string(next + 1))
                           .Run());
    t.title = n.title;
    t.type = n.type;
    t.parent = n.parent;
    t.ns = n.ns;
    t.priority = n.priority;
    t.complexity = n.complexity;
    t.deps = n.deps;
    t.description = n.description;
    t.tags = n.tags;
    t.created_at = t.updated_at = clock_.Now();
    PL_RETURN_IF_ERROR(InsertTask(t));
    PL_ASSIGN_OR_RETURN(t, Get(t.id));
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return t;
}

Result<Task> TaskStore::Get(const std::string& id) {
  PL_ASSIGN_OR_RETURN(auto tasks, Query("WHERE id = ?", {id}));
  if (tasks.empty()) return NotFound("no task " + Quoted(id));
  return std::move(tasks.front());
}

Result<std::vector<Task>> TaskStore::List(const TaskFilter& f) {
  std::string where = "WHERE 1";
  std::vector<std::string> binds;
  if (f.status) {
    where += " AND status = ?";
    binds.push_back(TaskStatusName(*f.status));
  }
  if (f.ns) {
    where += " AND namespace = ?";
    binds.push_back(*f.ns);
  }
  if (f.parent) {
    where += " AND parent = ?";
    binds.push_back(*f.parent);
  }
  return Query(where + " ORDER BY seq", binds);
}

Status TaskStore::SetStatus(const std::string& id, TaskStatus to) {
  return db_.Write([&]() -> Status {
    PL_RETURN_IF_ERROR(db_.Cached("UPDATE tasks SET status = ?, updated_at = ? WHERE id = ?")
                           .BindAll(TaskStatusName(to), clock_.Now(), id)
                           .Run());
    if (db_.Changes() == 0) return NotFound("no task " + Quoted(id));
    return Status::Ok();
  });
}

Status TaskStore::Claim(const std::string& id, TaskStatus from, TaskStatus to) {
  return db_.Write([&]() -> Status {
    PL_RETURN_IF_ERROR(db_.Cached("UPDATE tasks SET status = ?, updated_at = ? WHERE id = ? AND status = ?")
                           .BindAll(TaskStatusName(to), clock_.Now(), id, TaskStatusName(from))
                           .Run());
    if (db_.Changes() == 1) return Status::Ok();
    Stmt& s = db_.Cached("SELECT status FROM tasks WHERE id = ?");
    s.Bind(1, id);
    PL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return NotFound("no task " + Quoted(id));
    std::string now = s.Text(0);
    s.Reset();
    return Refused("task " + id + " is " + now + ", not " + TaskStatusName(from));
  });
}

Result<int64_t> TaskStore::AddComment(const std::string& id, const std::string& text, const std::string& author) {
  PL_RETURN_IF_ERROR(ValidateText("comment", text));
  PL_RETURN_IF_ERROR(ValidateAuthor(author));
  int64_t cid = 0;
  Status st = db_.Write([&]() -> Status {
    PL_RETURN_IF_ERROR(RequireExists(id));
    Micros now = clock_.Now();
    PL_RETURN_IF_ERROR(db_.Cached("INSERT INTO comments (task_id, text, author, created_at) VALUES (?, ?, ?, ?)")
                           .BindAll(id, text, author, now)
                           .Run());
    cid = db_.LastInsertRowid();
    return Touch(id);
  });
  if (!st.ok()) return st.error();
  return cid;
}

}  // namespace pipeline
