// `pipeline status`: what the scheduler is doing, read-only.
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstdio>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "config/config.h"
#include "sched/event_loop.h"
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

  int sigfd = BlockStopSignals();
  int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ino >= 0) inotify_add_watch(ino, paths->root.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO);
  while (true) {
    if (Status s = draw(); !s.ok()) return Fail(s);
    struct pollfd fds[2] = {{sigfd, POLLIN, 0}, {ino, POLLIN, 0}};
    int n = poll(fds, 2, 500);
    if (n > 0 && (fds[0].revents & POLLIN)) break;
    if (n > 0 && (fds[1].revents & POLLIN)) {
      char buf[4096];
      while (read(ino, buf, sizeof buf) > 0) {
      }
      usleep(50'000);  // coalesce a burst of commits into one frame
    }
  }
  if (ino >= 0) close(ino);
  if (sigfd >= 0) close(sigfd);
  return 0;
}

}  // namespace pipeline
