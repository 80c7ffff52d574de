#include "serve/task_list.h"

#include <nlohmann/json.hpp>

#include "serve/reply.h"
#include "tasks/task.h"
#include "tasks/task_board_sql.h"

namespace pipeline::serve {

namespace {

// A JSON string as DumpJson writes it. Most titles and ids are printable
// ASCII with nothing to escape and are copied; anything else goes through
// the JSON library, so escaping and the replacement of invalid UTF-8 are
// the same as in every other answer.
void AppendString(std::string& out, std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e || c == '"' || c == '\\') {
      out += DumpJson(nlohmann::json(std::string(s)));
      return;
    }
  }
  out += '"';
  out += s;
  out += '"';
}

void AppendField(std::string& out, const char* key, std::string_view value) {
  out += ",\"";
  out += key;
  out += "\":";
  AppendString(out, value);
}

void AppendField(std::string& out, const char* key, int64_t value) {
  out += ",\"";
  out += key;
  out += "\":";
  out += std::to_string(value);
}

}  // namespace

Result<TaskListRows> ReadTaskListRows(Db& db, const std::vector<std::string>* ids) {
  TaskListRows rows;
  std::string ids_json;
  if (ids) ids_json = nlohmann::json(*ids).dump();
  Status st = db.Read([&]() -> Status {
    PL_ASSIGN_OR_RETURN(Stmt s, ids ? PrepareTaskBoardRowsByIds(db) : PrepareTaskBoardRows(db));
    if (ids) s.Bind(1, ids_json);
    else s.Bind(1, std::nullopt);
    while (true) {
      PL_ASSIGN_OR_RETURN(bool more, s.Step());
      if (!more) break;
      TaskListRow r;
      r.id = s.Text(0);
      r.status = s.Text(2);
      r.not_before = s.Int(7);
      std::string& h = r.head;
      h.reserve(224);
      h += "{\"id\":";
      AppendString(h, r.id);
      AppendField(h, "title", s.Text(1));
      AppendField(h, "status", r.status);
      AppendField(h, "priority", s.Int(3));
      if (auto ns = s.OptText(4)) AppendField(h, "namespace", *ns);
      else h += ",\"namespace\":null";
      AppendField(h, "patchset", s.Int(5));
      AppendField(h, "retries", s.Int(6));
      AppendField(h, "updated_at", FormatIso8601(s.Int(8)));
      AppendField(h, "type", s.Text(9));
      if (auto q = s.OptText(10)) AppendField(h, "question", *q);
      if (auto why = s.OptText(11)) AppendField(h, "reason", *why);
      rows.push_back(std::move(r));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return rows;
}

std::string TaskListJson(const TaskListRows& rows, Micros now, const std::optional<std::string>& status) {
  size_t size = 2;
  for (const auto& r : rows) size += r.head.size() + 32;
  std::string out;
  out.reserve(size);
  out += '[';
  bool first = true;
  for (const auto& r : rows) {
    if (status && r.status != *status) continue;
    if (!first) out += ',';
    first = false;
    out += r.head;
    if (r.status == TaskStatusName(TaskStatus::kOpen) && r.not_before > now) {
      out += ",\"backoff_s\":";
      out += DumpJson(nlohmann::json(static_cast<double>(r.not_before - now) / 1e6));
    }
    out += '}';
  }
  out += "]\n";
  return out;
}

Result<std::shared_ptr<const TaskListRows>> TaskListCache::Rows(Db& db) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!stamp_db_) {
    PL_ASSIGN_OR_RETURN(stamp_db_, Db::Open(db_path_, /*create=*/false));
    stamp_ = stamp_db_->DataVersion();
  } else {
    int64_t now = stamp_db_->DataVersion();
    if (now != stamp_ || now < 0) rows_.reset();
    stamp_ = now;
  }
  // -1: the stamp could not be read; never trust a cache built under it.
  if (rows_ && stamp_ >= 0) return rows_;
  PL_ASSIGN_OR_RETURN(TaskListRows rows, ReadTaskListRows(db, nullptr));
  rows_ = std::make_shared<const TaskListRows>(std::move(rows));
  ++builds_;
  return rows_;
}

int64_t TaskListCache::builds() const {
  std::lock_guard<std::mutex> lock(mu_);
  return builds_;
}

}  // namespace pipeline::serve
