// The one way the program's loops sleep: `pipeline run` (event_loop.h), the
// demo driver, the external mode and `status --watch` all wait here, in one
// poll() over
//  * a signalfd for SIGINT/SIGTERM (CatchStopSignals),
//  * an inotify watch on the root directory: another process committed, its
//    WAL write shows up there (WatchStore),
//  * the launcher's descriptors: a watched run's worker ended (Launcher::Watches),
//  * a timeout: the next timer (back-off end, queue retry, redraw, poll).
// What woke it is returned; nothing is ever waited for by sleeping.
#pragma once

#include <string>
#include <vector>

#include "sched/launcher.h"
#include "util/clock.h"
#include "util/status.h"

namespace pipeline {

// Blocks SIGINT and SIGTERM for the calling thread and returns a signalfd
// for them (-1 on failure). Called before any thread or child is started.
int BlockStopSignals();

struct Wakeup {
  bool stop = false;        // SIGINT or SIGTERM arrived
  bool store = false;       // something under the root changed
  bool timeout = false;     // the timeout passed with nothing else
  std::vector<std::string> ended;  // runs whose watch fired (already told to the launcher)
};

class Waiter {
 public:
  Waiter() = default;
  ~Waiter();
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  // Blocks SIGINT and SIGTERM for the calling thread and takes them through
  // a signalfd. Call before any thread or child is started. False when the
  // signals could not be taken (they then keep their default action).
  bool CatchStopSignals();
  // Wakes on changes under the root directory. False when no watch could be
  // set (the caller's timeout is then the only way to notice).
  bool WatchStore(const std::string& root);

  // Sleeps at most timeout (microseconds, <= 0: just look) until one of the
  // sources fires. launcher may be null. An interrupted sleep (EINTR, a
  // signal with a handler) returns an empty Wakeup.
  Result<Wakeup> Wait(Launcher* launcher, Micros timeout);

 private:
  int sigfd_ = -1;
  int inotify_ = -1;
};

}  // namespace pipeline
