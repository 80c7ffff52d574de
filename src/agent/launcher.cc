#include "agent/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "agent/run_store.h"
#include "proc/process.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline {
namespace {

constexpr int kHandshakeFd = 3;
constexpr int64_t kHandshakeTimeoutMs = 60000;  // git rev-parse on a cold, huge repo included

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// Reads the monitor's one-line answer. Empty on EOF without a line; "timeout" on expiry.
std::string ReadHandshake(int fd, bool* timed_out) {
  std::string msg;
  int64_t deadline = NowMs() + kHandshakeTimeoutMs;
  char buf[512];
  while (msg.find('\n') == std::string::npos) {
    int64_t left = deadline - NowMs();
    if (left <= 0) {
      *timed_out = true;
      break;
    }
    struct pollfd p = {fd, POLLIN, 0};
    int rc = poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    msg.append(buf, static_cast<size_t>(n));
  }
  size_t nl = msg.find('\n');
  return nl == std::string::npos ? msg : msg.substr(0, nl);
}

}  // namespace

std::vector<std::string> MonitorArgv(const std::string& self_exe, const RootPaths& paths, const std::string& run_id) {
  return {self_exe.empty() ? SelfExePath() : self_exe, "agent", "__monitor", run_id, "--root", paths.root};
}

Result<pid_t> StartMonitor(const RootPaths& paths, const std::string& run_id) {
  return StartMonitor(paths, run_id, "");
}

Result<pid_t> StartMonitor(const RootPaths& paths, const std::string& run_id, const std::string& self_exe) {
  PL_RETURN_IF_ERROR(ValidateRunId(run_id));
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return IOError(std::string("pipe: ") + strerror(errno));
  // dup2 onto the same number would keep close-on-exec set: move the write end off fd 3.
  if (p[1] == kHandshakeFd) {
    int moved = fcntl(p[1], F_DUPFD_CLOEXEC, 10);
    close(p[1]);
    p[1] = moved;
  }
  SpawnOptions o;
  o.argv = MonitorArgv(self_exe, paths, run_id);
  o.new_session = true;  // no terminal, no caller's process group: survives the caller
  o.stdout_mode = SpawnOptions::Out::kNull;
  o.stderr_mode = SpawnOptions::Out::kNull;
  o.pass_fds = {{p[1], kHandshakeFd}};
  auto spawned = Spawn(o);
  close(p[1]);
  if (!spawned.ok()) {
    close(p[0]);
    return spawned.error();
  }
  pid_t pid = spawned->pid;
  bool timed_out = false;
  std::string answer = ReadHandshake(p[0], &timed_out);
  close(p[0]);
  if (answer == "ok") return pid;
  if (timed_out) return TimedOut("the monitor of run " + run_id + " did not report within 60 s");
  // The monitor has said why (and failed the row), or died before it could.
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (StartsWith(answer, "error: ")) return Unavailable(answer.substr(7));
  std::string why = "the monitor exited before starting the agent";
  auto db = OpenStore(paths);
  if (db.ok()) (void)FailRun(**db, run_id, why, SystemClock().Now());
  return Unavailable(why);
}

Status RequestKill(Db& db, const RootPaths& paths, const std::string& run_id) {
  (void)paths;
  PL_RETURN_IF_ERROR(MarkKillRequested(db, run_id));
  PL_ASSIGN_OR_RETURN(RunRecord r, GetRun(db, run_id));
  if (r.monitor_pid > 0 && ProcessAlive(r.monitor_pid, r.monitor_start)) {
    kill(r.monitor_pid, SIGUSR1);
  } else if (r.monitor_pid > 0) {
    PL_RETURN_IF_ERROR(ReapDeadMonitors(db, SystemClock()).status());
  }
  // No monitor yet: it reads kill_requested when it claims the run.
  return Status::Ok();
}

}  // namespace pipeline
