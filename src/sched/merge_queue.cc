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

std::string BaseRedDetail(const std::string& base, const std::string& commit, const std::string& output) {
  return base + " fails its check at " + commit + "\n" + output;
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
    std::string detail = r.OptText(1).value_or("");
    size_t nl = detail.find('\n');
    std::string head = detail.substr(0, nl);
    st.output = nl == std::string::npos ? "" : detail.substr(nl + 1);
    const std::string marker = " fails its check at ";
    size_t at = head.find(marker);
    if (at != std::string::npos) {
      st.base = head.substr(0, at);
      st.commit = head.substr(at + marker.size());
    }
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
