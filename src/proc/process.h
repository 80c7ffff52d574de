// Starting and watching child processes. Every child starts from an argv
// vector through posix_spawn (never a shell, never fork from a big process),
// with stdin from /dev/null unless told otherwise, and close-on-exec on every
// descriptor we open. ProcessRunner is the seam tests replace.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/status.h"

namespace pipeline {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH when it has no '/'
  std::string cwd;                // empty: inherit
  std::map<std::string, std::string> env_set;  // added to (or replacing in) the inherited environment
  std::vector<std::string> env_unset;
  bool new_process_group = true;  // the child leads its own group, so signals reach its children
  bool new_session = false;       // setsid(): detach from the caller's terminal and session
  enum class Out { kNull, kPipe, kInherit, kFile };
  Out stdout_mode = Out::kNull;
  Out stderr_mode = Out::kNull;
  std::string stdout_path, stderr_path;  // for kFile (appended)
  bool stdin_pipe = false;               // else /dev/null
  // Descriptors to pass to the child: {fd in parent, fd number in child}.
  std::vector<std::pair<int, int>> pass_fds;
};

struct SpawnedProcess {
  pid_t pid = -1;
  int stdin_fd = -1;   // when stdin_pipe
  int stdout_fd = -1;  // when kPipe
  int stderr_fd = -1;  // when kPipe
};

// Starts the child. Fails (kNotFound / kIO) if the program cannot be executed.
Result<SpawnedProcess> Spawn(const SpawnOptions& opts);

struct ExitInfo {
  int exit_code = -1;   // valid when !signaled
  int term_signal = 0;  // non-zero when killed by a signal
  bool signaled() const { return term_signal != 0; }
  bool success() const { return !signaled() && exit_code == 0; }
};
ExitInfo DecodeWaitStatus(int status);

struct Command {
  std::vector<std::string> argv;
  std::string cwd;
  std::map<std::string, std::string> env_set;
  std::vector<std::string> env_unset;
  std::string stdin_data;
  int64_t timeout_ms = 0;                 // 0: none. On expiry the whole group gets SIGTERM, then SIGKILL.
  size_t max_output_bytes = 16 << 20;     // per stream; the rest is read and dropped
};

struct CommandResult {
  ExitInfo exit;
  std::string out;
  std::string err;
  bool timed_out = false;
  bool ok() const { return !timed_out && exit.success(); }
};

// Runs a command to its end, reading both pipes while it runs. Returns an
// error only when the command could not be started.
class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  virtual Result<CommandResult> Run(const Command& cmd) = 0;
};

ProcessRunner& RealProcessRunner();

// --- process identity and signals ---

// Kernel start time of pid (field 22 of /proc/PID/stat), used with the pid to
// tell a live process from a recycled pid. nullopt when the pid is gone.
std::optional<uint64_t> ProcessStartTime(pid_t pid);
// True if pid exists and, when start_time is non-zero, started at that time.
bool ProcessAlive(pid_t pid, uint64_t start_time);
// kill(-pgid, sig); ESRCH is not an error.
void SignalGroup(pid_t pgid, int sig);
// True if any process is still in the group.
bool GroupAlive(pid_t pgid);
// pidfd_open(2): a descriptor that becomes readable when pid exits. -1 on failure.
int PidfdOpen(pid_t pid);

}  // namespace pipeline
