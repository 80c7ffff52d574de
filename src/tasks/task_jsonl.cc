// JSONL export and import: one protocol task object per line. Export then
// import into an empty store then export again gives the same bytes.
#include <functional>
#include <istream>
#include <map>
#include <ostream>
#include <set>

#include "tasks/task_store.h"
#include "util/text.h"

namespace pipeline {

namespace {

// Output is ASCII (non-ASCII escaped as \uXXXX): readers under LANG=C decode it too.
std::string Line(const Task& t) {
  std::string s;
  AppendTaskJsonText(&s, t);
  s.push_back('\n');
  return s;
}

std::optional<int64_t> SeqOfId(const std::string& id) {
  if (!StartsWith(id, "t-")) return std::nullopt;
  auto n = ParseInt64(std::string_view(id).substr(2));
  if (!n || *n < 1 || std::to_string(*n) != id.substr(2)) return std::nullopt;
  return n;
}

Error AtLine(size_t line, const Error& e) { return {e.kind, "line " + std::to_string(line) + ": " + e.message}; }

}  // namespace

Status TaskStore::Export(std::ostream& out) {
  PL_ASSIGN_OR_RETURN(auto tasks, List(TaskFilter{}));
  for (const Task& t : tasks) out << Line(t);
  out.flush();
  if (!out) return IOError("cannot write the export");
  return Status::Ok();
}

Status TaskStore::Import(std::istream& in) {
  // Parse and check every line before touching the store.
  std::vector<Task> tasks;
  std::vector<size_t> lines;
  std::map<std::string, size_t> line_of;
  std::string text;
  Micros now = clock_.Now();
  for (size_t n = 1; std::getline(in, text); ++n) {
    if (Trim(text).empty()) continue;
    if (!IsValidUtf8(text)) return AtLine(n, InvalidArgument("not valid UTF-8"));
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return AtLine(n, InvalidArgument("not a JSON object"));
    auto t = TaskFromJson(j, now);
    if (!t.ok()) return AtLine(n, t.error());
    if (!line_of.emplace(t->id, n).second)
      return AtLine(n, InvalidArgument("task " + t->id + " is already on line " + std::to_string(line_of[t->id])));
    tasks.push_back(std::move(t).value());
    lines.push_back(n);
  }
  if (in.bad()) return IOError("cannot read the import");

  // Cycles can only run through imported tasks: nothing already stored depends on them.
  std::map<std::string, int> state;  // 1 visiting, 2 done
  std::map<std::string, const Task*> by_id;
  for (const Task& t : tasks) by_id[t.id] = &t;
  std::function<std::optional<std::string>(const std::string&)> visit =
      [&](const std::string& id) -> std::optional<std::string> {
    state[id] = 1;
    for (const auto& d : by_id[id]->deps) {
      if (!by_id.count(d)) continue;
      if (state[d] == 1) return id + " -> " + d;
      if (state[d] == 0)
        if (auto c = visit(d)) return id + " -> " + *c;
    }
    state[id] = 2;
    return std::nullopt;
  };
  for (size_t i = 0; i < tasks.size(); ++i)
    if (state[tasks[i].id] == 0)
      if (auto c = visit(tasks[i].id)) return AtLine(lines[i], Refused("dependency cycle: " + *c));

  return db_.Write([&]() -> Status {
    for (size_t i = 0; i < tasks.size(); ++i)
      if (RequireExists(tasks[i].id).ok())
        return AtLine(lines[i], Refused("task " + tasks[i].id + " already exists in the store"));
    for (size_t i = 0; i < tasks.size(); ++i) {
      const Task& t = tasks[i];
      if (t.parent && !line_of.count(*t.parent) && !RequireExists(*t.parent).ok())
        return AtLine(lines[i], NotFound("taskParent " + Quoted(*t.parent) + " does not exist"));
      for (const auto& d : t.deps)
        if (!line_of.count(d) && !RequireExists(d).ok())
          return AtLine(lines[i], NotFound("dependency " + Quoted(d) + " does not exist"));
      Status s = InsertTask(t);
      if (!s.ok()) return AtLine(lines[i], s.error());
    }
    Stmt& m = db_.Cached("SELECT value FROM meta WHERE key = 'next_task_seq'");
    PL_ASSIGN_OR_RETURN(bool row, m.Step());
    int64_t next = row ? ParseInt64(m.Text(0)).value_or(1) : 1;
    m.Reset();
    for (const Task& t : tasks)
      if (auto n = SeqOfId(t.id); n && *n >= next) next = *n + 1;
    return db_.Cached("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_task_seq', ?)")
        .BindAll(std::to_string(next))
        .Run();
  });
}

}  // namespace pipeline
