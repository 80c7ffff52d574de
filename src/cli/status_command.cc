// `pipeline status`: what the scheduler is doing, read-only.
#include <unistd.h>

#include <cstdio>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "config/config.h"
#include "sched/wait_loop.h"
#include "sched/status_snapshot.h"
#include "store/root.h"
#include "util/clock.h"
#include "util/files.h"

namespace pipeline {

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

  auto draw = [&]() -> Status {
    // A fresh read-only connection per frame: it sees the latest commits and
    // never creates or changes a file under the root.
    auto db = Db::OpenReadOnly(paths->db());
    if (!db.ok()) return db.status();
    auto snap = StatusSnapshot(**db, *paths, *options, SystemClock());
    if (!snap.ok()) return snap.status();
    if (flags.json) {
      PrintJson(*snap);
    } else {
      std::string text = FormatStatus(*snap);
      if (watch) text = "\x1b[H\x1b[2J" + text;
      fwrite(text.data(), 1, text.size(), stdout);
      fflush(stdout);
    }
    return Status::Ok();
  };
  if (!watch) return Fail(draw());

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
