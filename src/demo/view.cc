#include "demo/view.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tasks/task_queries.h"
#include "tasks/task_store.h"

namespace pipeline::demo {
namespace {

constexpr size_t kRecentEvents = 8;

}  // namespace

Result<ViewState> ReadViewState(Db& db) {
  ViewState v;
  PL_RETURN_IF_ERROR(db.Read([&]() -> Status {
    {
      PL_ASSIGN_OR_RETURN(auto counts, CountTasksByStatus(db, /*with_epics=*/true));
      for (const auto& [status, n] : counts) v.by_status[TaskStatusName(status)] = static_cast<int>(n);
    }
    {
      PL_ASSIGN_OR_RETURN(Stmt st, db.Prepare("SELECT run_id, COALESCE(task_id, ''), phase, COALESCE(domain, '') "
                                              "FROM runs WHERE status IN ('starting', 'running') ORDER BY created_at"));
      while (true) {
        PL_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        v.active.push_back({st.Text(0), st.Text(1), st.Text(2), st.Text(3)});
      }
    }
    {
      PL_ASSIGN_OR_RETURN(
          Stmt st, db.Prepare("SELECT d.domain, d.budget_cents, "
                              "(SELECT COALESCE(SUM(cents), 0) FROM ledger l WHERE l.domain = d.domain AND l.kind = 'spend'), "
                              "(SELECT COALESCE(SUM(cents), 0) FROM holds h WHERE h.domain = d.domain AND h.state = 'held') "
                              "FROM domains d ORDER BY d.domain"));
      while (true) {
        PL_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        v.spend.push_back({st.Text(0), st.Int(1), st.Int(2), st.Int(3)});
      }
    }
    {
      PL_ASSIGN_OR_RETURN(auto tasks, TaskStore(db, SystemClock()).List(TaskFilter{}));
      for (const Task& t : tasks)
        v.task_lines.push_back(fmt::format("{:<6} {:<11} ps {}  {}", t.id, TaskStatusName(t.status), t.patchset, t.title));
    }
    return Status::Ok();
  }));
  return v;
}

ProgressView::ProgressView(FILE* out, bool live) : out_(out), live_(live) {}

std::string ProgressView::StatusLine(const ViewState& s) const {
  std::string line = "tasks:";
  for (TaskStatus status : kAllTaskStatuses) {
    const char* st = TaskStatusName(status);
    auto it = s.by_status.find(st);
    if (it != s.by_status.end() && it->second > 0) line += fmt::format(" {} {}", st, it->second);
  }
  line += fmt::format(" | runs active {} | spent", s.active.size());
  for (const auto& d : s.spend) line += fmt::format(" {} {}/{}c", d.domain, d.spent_cents, d.budget_cents);
  return line;
}

void ProgressView::Event(double elapsed_s, const std::string& line) {
  std::string text = fmt::format("[{:6.2f}s] {}", elapsed_s, line);
  if (!live_) {
    fmt::print(out_, "{}\n", text);
    fflush(out_);
    return;
  }
  recent_.push_back(text);
  while (recent_.size() > kRecentEvents) recent_.pop_front();
}

void ProgressView::Draw(double elapsed_s, const ViewState& s) {
  if (!live_) {
    std::string line = StatusLine(s);
    if (line != last_status_) {
      fmt::print(out_, "[{:6.2f}s] {}\n", elapsed_s, line);
      fflush(out_);
      last_status_ = line;
    }
    return;
  }
  std::vector<std::string> lines;
  lines.push_back(fmt::format("pipeline demo  {:.1f}s", elapsed_s));
  lines.push_back("");
  for (const auto& t : s.task_lines) lines.push_back("  " + t);
  lines.push_back("");
  lines.push_back(fmt::format("active runs ({}):", s.active.size()));
  for (const auto& a : s.active) lines.push_back(fmt::format("  {:<9} {:<6} {}", a.phase, a.task_id, a.run_id));
  lines.push_back("");
  lines.push_back("spend per domain:");
  for (const auto& d : s.spend)
    lines.push_back(fmt::format("  {:<8} spent {:>4}c  held {:>4}c  of {:>4}c", d.domain, d.spent_cents, d.held_cents,
                                d.budget_cents));
  lines.push_back("");
  lines.push_back("recent events:");
  for (const auto& e : recent_) lines.push_back("  " + e);
  // A frame taller than the terminal would scroll, and moving up could no
  // longer reach its top: keep to the window (the events are cut first).
  winsize ws{};
  if (ioctl(fileno(out_), TIOCGWINSZ, &ws) == 0 && ws.ws_row > 2 && lines.size() >= ws.ws_row) {
    lines.resize(ws.ws_row - 1);
  }
  // Back to the top of the previous frame, clear it, draw the new one.
  std::string frame;
  if (drawn_lines_ > 0) frame += fmt::format("\x1b[{}F\x1b[J", drawn_lines_);
  for (const auto& l : lines) frame += l + "\x1b[K\n";
  fputs(frame.c_str(), out_);
  fflush(out_);
  drawn_lines_ = static_cast<int>(lines.size());
}

void ProgressView::Finish() {
  drawn_lines_ = 0;
  fflush(out_);
}

}  // namespace pipeline::demo
