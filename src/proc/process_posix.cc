#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "proc/process.h"
#include "util/files.h"

extern char** environ;

namespace pipeline {
namespace {

std::vector<std::string> BuildEnv(const std::map<std::string, std::string>& set,
                                  const std::vector<std::string>& unset) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    std::string key = kv.substr(0, kv.find('='));
    if (set.count(key)) continue;
    bool drop = false;
    for (const auto& u : unset) drop = drop || u == key;
    if (!drop) env.push_back(std::move(kv));
  }
  for (const auto& [k, v] : set) env.push_back(k + "=" + v);
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

class RealRunner final : public ProcessRunner {
 public:
  Result<CommandResult> Run(const Command& cmd) override {
    SpawnOptions o;
    o.argv = cmd.argv;
    o.cwd = cmd.cwd;
    o.env_set = cmd.env_set;
    o.env_unset = cmd.env_unset;
    o.stdout_mode = SpawnOptions::Out::kPipe;
    o.stderr_mode = SpawnOptions::Out::kPipe;
    o.stdin_pipe = !cmd.stdin_data.empty();
    PL_ASSIGN_OR_RETURN(SpawnedProcess p, Spawn(o));
    if (p.stdin_fd >= 0) {
      // Small inputs only (git --stdin lists); written before reading output.
      size_t off = 0;
      while (off < cmd.stdin_data.size()) {
        ssize_t n = write(p.stdin_fd, cmd.stdin_data.data() + off, cmd.stdin_data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      close(p.stdin_fd);
    }
    CommandResult r;
    int64_t deadline = cmd.timeout_ms > 0 ? NowMs() + cmd.timeout_ms : 0;
    int64_t kill_at = 0;
    int fds[2] = {p.stdout_fd, p.stderr_fd};
    std::string* bufs[2] = {&r.out, &r.err};
    int open_fds = 2;
    char buf[65536];
    while (open_fds > 0) {
      struct pollfd pfd[2];
      int n = 0;
      int idx[2];
      for (int i = 0; i < 2; ++i)
        if (fds[i] >= 0) {
          pfd[n] = {fds[i], POLLIN, 0};
          idx[n++] = i;
        }
      int wait_ms = -1;
      if (deadline) wait_ms = static_cast<int>(std::max<int64_t>(0, (kill_at ? kill_at : deadline) - NowMs()));
      int rc = poll(pfd, n, wait_ms);
      if (rc < 0 && errno == EINTR) continue;
      if (rc == 0) {
        if (!kill_at) {
          r.timed_out = true;
          SignalGroup(p.pid, SIGTERM);
          kill_at = NowMs() + 2000;
        } else {
          SignalGroup(p.pid, SIGKILL);
          // Descendants that escaped the group may still hold the pipes: stop reading.
          for (int i = 0; i < 2; ++i)
            if (fds[i] >= 0) close(fds[i]), fds[i] = -1;
          open_fds = 0;
        }
        continue;
      }
      for (int k = 0; k < n; ++k) {
        if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        int i = idx[k];
        ssize_t got = read(fds[i], buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
          close(fds[i]);
          fds[i] = -1;
          --open_fds;
          continue;
        }
        size_t room = cmd.max_output_bytes > bufs[i]->size() ? cmd.max_output_bytes - bufs[i]->size() : 0;
        bufs[i]->append(buf, std::min(room, static_cast<size_t>(got)));
      }
    }
    int status = 0;
    while (waitpid(p.pid, &status, 0) < 0 && errno == EINTR) {
    }
    r.exit = DecodeWaitStatus(status);
    if (r.timed_out) SignalGroup(p.pid, SIGKILL);
    return r;
  }
};

}  // namespace

ExitInfo DecodeWaitStatus(int status) {
  ExitInfo e;
  if (WIFEXITED(status)) e.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) e.term_signal = WTERMSIG(status);
  return e;
}

Result<SpawnedProcess> Spawn(const SpawnOptions& opts) {
  if (opts.argv.empty() || opts.argv[0].empty()) return InvalidArgument("empty command");
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, in_pipe[2] = {-1, -1};
  auto cleanup = [&]() {
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1], in_pipe[0], in_pipe[1]})
      if (fd >= 0) close(fd);
  };
  if (opts.stdin_pipe) {
    if (pipe2(in_pipe, O_CLOEXEC) != 0) return cleanup(), IOError(std::string("pipe: ") + strerror(errno));
    posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
  } else {
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  }
  auto setup_out = [&](SpawnOptions::Out mode, const std::string& path, int target, int* p) -> Status {
    switch (mode) {
      case SpawnOptions::Out::kNull:
        posix_spawn_file_actions_addopen(&fa, target, "/dev/null", O_WRONLY, 0);
        break;
      case SpawnOptions::Out::kPipe:
        if (pipe2(p, O_CLOEXEC) != 0) return IOError(std::string("pipe: ") + strerror(errno));
        posix_spawn_file_actions_adddup2(&fa, p[1], target);
        break;
      case SpawnOptions::Out::kFile:
        posix_spawn_file_actions_addopen(&fa, target, path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        break;
      case SpawnOptions::Out::kInherit:
        break;
    }
    return Status::Ok();
  };
  if (Status s = setup_out(opts.stdout_mode, opts.stdout_path, 1, out_pipe); !s.ok()) return cleanup(), s.error();
  if (Status s = setup_out(opts.stderr_mode, opts.stderr_path, 2, err_pipe); !s.ok()) return cleanup(), s.error();
  for (const auto& [from, to] : opts.pass_fds) posix_spawn_file_actions_adddup2(&fa, from, to);
  if (!opts.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, opts.cwd.c_str());

  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  if (opts.new_session) {
    flags |= POSIX_SPAWN_SETSID;
  } else if (opts.new_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  posix_spawnattr_setflags(&attr, flags);

  std::vector<std::string> argv = opts.argv;
  std::vector<std::string> env = BuildEnv(opts.env_set, opts.env_unset);
  auto cargv = CStrings(argv);
  auto cenv = CStrings(env);
  pid_t pid = -1;
  // posix_spawnp searches PATH for names without '/'. glibc reports exec
  // failures (ENOENT, EACCES) from the child as the return value.
  int rc = posix_spawnp(&pid, argv[0].c_str(), &fa, &attr, cargv.data(), cenv.data());
  if (rc != 0) {
    cleanup();
    std::string msg = "cannot start " + opts.argv[0] + ": " + strerror(rc);
    return rc == ENOENT ? NotFound(msg) : IOError(msg);
  }
  SpawnedProcess p;
  p.pid = pid;
  if (in_pipe[1] >= 0) p.stdin_fd = in_pipe[1], in_pipe[1] = -1;
  if (out_pipe[0] >= 0) p.stdout_fd = out_pipe[0], out_pipe[0] = -1;
  if (err_pipe[0] >= 0) p.stderr_fd = err_pipe[0], err_pipe[0] = -1;
  cleanup();
  return p;
}

ProcessRunner& RealProcessRunner() {
  static RealRunner runner;
  return runner;
}

std::optional<uint64_t> ProcessStartTime(pid_t pid) {
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!text.ok()) return std::nullopt;
  // Field 2 (comm) may contain spaces and parentheses: parse after the last ')'.
  const std::string& s = text.value();
  size_t rp = s.rfind(')');
  if (rp == std::string::npos) return std::nullopt;
  // After ") " come fields 3.. ; starttime is field 22, i.e. the 20th after comm.
  size_t pos = rp + 2;
  int field = 3;
  while (field < 22 && pos < s.size()) {
    pos = s.find(' ', pos);
    if (pos == std::string::npos) return std::nullopt;
    ++pos;
    ++field;
  }
  try {
    return std::stoull(s.substr(pos, s.find(' ', pos) - pos));
  } catch (...) {
    return std::nullopt;
  }
}

bool ProcessAlive(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return false;
  auto st = ProcessStartTime(pid);
  if (!st) return false;
  // A zombie still has /proc/PID/stat; treat state Z as dead.
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (text.ok()) {
    size_t rp = text->rfind(')');
    if (rp != std::string::npos && rp + 2 < text->size() && (*text)[rp + 2] == 'Z') return false;
  }
  return start_time == 0 || *st == start_time;
}

void SignalGroup(pid_t pgid, int sig) {
  if (pgid > 1) kill(-pgid, sig);
}

bool GroupAlive(pid_t pgid) { return pgid > 1 && kill(-pgid, 0) == 0; }

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

}  // namespace pipeline
