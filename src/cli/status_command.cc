// `pipeline status`: what the scheduler is doing, read-only.
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "config/config.h"
#include "sandbox/settings.h"
#include "sched/status_screen.h"
#include "sched/wait_loop.h"
#include "sched/status_snapshot.h"
#include "store/root.h"
#include "util/clock.h"
#include "util/files.h"

namespace pipeline {

namespace {

// SIGWINCH only interrupts the wait (poll returns EINTR), so the next frame
// is drawn at once at the new size.
void OnResize(int) {}

// The terminal's size; 80x24 when it cannot be read.
std::pair<int, int> TerminalSize(int fd) {
  struct winsize ws = {};
  if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) return {ws.ws_col, ws.ws_row};
  return {80, 24};
}

// One frame: home, clear the whole screen (no line of the last frame
// survives a resize), the lines without a newline after the last (which
// would scroll the first line away).
std::string ScreenFrame(const std::vector<std::string>& lines) {
  std::string out = "\x1b[H\x1b[2J";
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) out += "\r\n";
    out += lines[i];
  }
  return out;
}

// The alternate screen without a cursor while watching; the screen as it
// was afterwards, however the watch ends (Ctrl-C or an error).
struct ScreenGuard {
  bool on;
  explicit ScreenGuard(bool on) : on(on) {
    if (!on) return;
    struct sigaction sa = {};
    sa.sa_handler = OnResize;  // no SA_RESTART: the wait returns at once
    sigaction(SIGWINCH, &sa, nullptr);
    fputs("\x1b[?1049h\x1b[?25l", stdout);
  }
  ~ScreenGuard() {
    if (!on) return;
    fputs("\x1b[?25h\x1b[?1049l", stdout);
    fflush(stdout);
  }
};

}  // namespace

int StatusCommand(const Args& args) {
  CLI::App app("What the pipeline is doing: tasks by status, active runs, budgets, failures, waiting and skipped work",
               "pipeline status");
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  bool watch = false;
  app.add_flag("--watch", watch, "Redraw a live view until Ctrl-C");
  if (auto rc = ParseArgs(app, args)) return *rc;
  auto setup = LoadSchedulerSetup(flags.root);
  if (!setup.ok()) return Fail(setup.error());
  const RootPaths* paths = &setup->paths;
  const SchedulerOptions* options = &setup->options;
  auto default_budget = setup->config.IntOr("fund.default_budget_cents", 0);
  if (!default_budget.ok()) return Fail(default_budget.error());
  const bool screen = watch && !flags.json && isatty(STDOUT_FILENO);
  auto sandbox = LoadSandboxSettings(setup->config);
  if (!sandbox.ok()) return Fail(sandbox.error());

  auto draw = [&]() -> Status {
    // A fresh read-only connection per frame: it sees the latest commits and
    // never creates or changes a file under the root.
    auto db = Db::OpenReadOnly(paths->db());
    if (!db.ok()) return db.status();
    auto snap = StatusSnapshot(**db, *paths, *options, SystemClock(), *default_budget, &*sandbox);
    if (!snap.ok()) return snap.status();
    if (flags.json) {
      PrintJson(*snap);
    } else {
      auto [width, height] = TerminalSize(STDOUT_FILENO);
      std::string text = screen ? ScreenFrame(RenderStatusScreen(*snap, width, height)) : FormatStatus(*snap);
      fwrite(text.data(), 1, text.size(), stdout);
      fflush(stdout);
    }
    return Status::Ok();
  };
  if (!watch) return Fail(draw());

  ScreenGuard guard(screen);
  Waiter waiter;
  waiter.CatchStopSignals();
  waiter.WatchStore(paths->root);  // no watch: redrawn every 500 ms anyway
  while (true) {
    if (Status s = draw(); !s.ok()) return Fail(s);
    auto w = waiter.Wait(nullptr, 500'000);
    if (!w.ok()) return Fail(w.status());
    if (w->stop) break;
    if (w->store) usleep(50'000);  // coalesce a burst of commits into one frame
  }
  return 0;
}

}  // namespace pipeline
