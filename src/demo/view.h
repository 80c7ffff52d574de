// The demo's live progress view: tasks by status, active runs and spend per
// domain, read from the store. On a terminal it is redrawn in place (with the
// latest scheduler events under it); otherwise, or with --no-watch, the demo
// prints plain progressive lines: each event, and a status line whenever the
// counts change.
#pragma once

#include <cstdio>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "store/db.h"
#include "util/status.h"

namespace pipeline::demo {

struct ViewState {
  std::map<std::string, int> by_status;  // task status -> count
  struct Active {
    std::string run_id, task_id, phase, domain;
  };
  std::vector<Active> active;
  struct Spend {
    std::string domain;
    int64_t budget_cents = 0, spent_cents = 0, held_cents = 0;
  };
  std::vector<Spend> spend;
  std::vector<std::string> task_lines;  // "t-1 done  Add tk_trim" (live view only)
};
Result<ViewState> ReadViewState(Db& db);

class ProgressView {
 public:
  // live: redraw in place (a terminal); else append lines.
  ProgressView(FILE* out, bool live);
  // A line for the log ("start t-1 run=..."); elapsed seconds go in front.
  void Event(double elapsed_s, const std::string& line);
  // Redraws (live) or prints a status line when the counts changed (plain).
  void Draw(double elapsed_s, const ViewState& state);
  // Leaves the last frame on screen.
  void Finish();

 private:
  std::string StatusLine(const ViewState& s) const;

  FILE* out_;
  bool live_;
  int drawn_lines_ = 0;
  std::deque<std::string> recent_;  // live: the last events
  std::string last_status_;         // plain: the last status line printed
};

}  // namespace pipeline::demo
