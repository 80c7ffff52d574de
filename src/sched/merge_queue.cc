#include "sched/merge_queue.h"

#include "util/text.h"

namespace pipeline {

std::vector<std::string> IntegrateRunTasks(const RunRecord& run) {
  std::vector<std::string> ids;
  for (size_t i = 0; i + 1 < run.argv.size(); ++i) {
    if (run.argv[i] != "integrate-batch") continue;
    for (size_t j = i + 1; j < run.argv.size() && !StartsWith(run.argv[j], "--"); ++j) ids.push_back(run.argv[j]);
    break;
  }
  if (ids.empty() && run.task_id) ids.push_back(*run.task_id);
  return ids;
}

namespace {
constexpr std::string_view kFailsAt = " fails its check at ";
}  // namespace

std::string BaseRedDetail(const std::string& base, const std::string& commit, const std::string& output) {
  return base + std::string(kFailsAt) + commit + "\n" + output;
}

BaseRedParts ParseBaseRedDetail(const std::string& detail) {
  BaseRedParts parts;
  size_t nl = detail.find('\n');
  std::string head = detail.substr(0, nl);
  size_t at = head.find(kFailsAt);
  if (at == std::string::npos) {
    parts.output = detail;
    return parts;
  }
  parts.base = head.substr(0, at);
  parts.commit = head.substr(at + kFailsAt.size());
  parts.output = nl == std::string::npos ? "" : detail.substr(nl + 1);
  return parts;
}

Result<bool> BaseWasRedBefore(Db& db, int64_t event_id) {
  Stmt& s = db.Cached(
      "SELECT kind FROM events WHERE id < ? AND task_id IS NULL AND kind IN ('base-red', 'base-green') "
      "ORDER BY id DESC LIMIT 1");
  s.BindAll(event_id);
  auto row = s.Step();
  bool red = row.ok() && *row && s.Text(0) == "base-red";
  s.Reset();
  if (!row.ok()) return row.error();
  return red;
}

Result<BaseState> ReadBaseState(Db& db) {
  BaseState st;
  // The newest red or green verdict, and whether a recheck was asked after it.
  Stmt& s = db.Cached(
      "SELECT kind, detail, at FROM events WHERE task_id IS NULL AND kind IN ('base-red', 'base-green', "
      "'base-recheck') ORDER BY id DESC LIMIT 8");
  bool done = false;
  auto row = [&](Stmt& r) {
    if (done) return;
    std::string kind = r.Text(0);
    if (kind == "base-recheck") {
      st.recheck_asked = true;
      return;
    }
    done = true;
    if (kind != "base-red") return;
    st.red = true;
    BaseRedParts parts = ParseBaseRedDetail(r.OptText(1).value_or(""));
    st.base = std::move(parts.base);
    st.commit = std::move(parts.commit);
    st.output = std::move(parts.output);
    st.since = r.Int(2);
  };
  for (;;) {
    auto more = s.Step();
    if (!more.ok()) {
      s.Reset();
      return more.error();
    }
    if (!*more) break;
    row(s);
  }
  s.Reset();
  if (!st.red) st.recheck_asked = false;  // a recheck of a green base means nothing
  return st;
}

}  // namespace pipeline
