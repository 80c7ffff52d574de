#include "demo/claude.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/profile.h"
#include "proc/process.h"
#include "demo/scenario.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline::demo {
namespace {

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

bool IsExecutableFile(const std::string& path) { return !IsDirectory(path) && access(path.c_str(), X_OK) == 0; }

std::string OnPath(const std::string& name) {
  const char* path = getenv("PATH");
  for (const std::string& dir : Split(path ? path : "", ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (IsExecutableFile(candidate)) return AbsolutePath(candidate);
  }
  return "";
}

Result<ClaudeCli> Probe(const std::string& path) {
  Command cmd;
  cmd.argv = {path, "--version"};
  cmd.timeout_ms = 30000;
  auto r = RealProcessRunner().Run(cmd);
  if (!r.ok()) return Unavailable(path + " does not run: " + r.message());
  if (!r->ok()) return Unavailable(path + " --version failed: " + SingleLine(Trim(r->err + r->out)));
  return ClaudeCli{path, SingleLine(Trim(r->out))};
}

void SleepMs(int ms) {
  struct timespec ts = {0, ms * 1'000'000L};
  nanosleep(&ts, nullptr);
}

}  // namespace

Result<ClaudeCli> FindClaudeCli(const std::string& explicit_path, const std::string& self_exe) {
  if (!explicit_path.empty()) {
    std::string p = AbsolutePath(explicit_path);
    if (!IsExecutableFile(p)) return InvalidArgument("--claude " + explicit_path + " is not an executable file");
    return Probe(p);
  }
  std::string in_tree = DirName(DirName(DirName(self_exe))) + "/tools/node_modules/.bin/claude";
  if (IsExecutableFile(in_tree)) return Probe(in_tree);
  std::string on_path = OnPath("claude");
  if (!on_path.empty()) return Probe(on_path);
  return NotFound("Claude Code is not installed (looked for " + in_tree +
                  " and claude on PATH); install it with scripts/install-agent-clis.sh (make demo does), "
                  "give --claude PATH, or run the scripted agent: pipeline demo --agent command");
}

Status DemoModelStub::Start(const std::string& stub_exe, const std::string& state_dir) {
  const std::string scenario = state_dir + "/model-stub.json";
  const std::string port_file = state_dir + "/model-stub.port";
  const std::string err_file = state_dir + "/model-stub.err";
  PL_RETURN_IF_ERROR(WriteFileAtomic(scenario, DemoScenario().dump(2) + "\n"));
  SpawnOptions o;
  o.argv = {stub_exe, "--scenario", scenario, "--port", "0", "--port-file", port_file,
            "--log", state_dir + "/model-stub.log", "--parent-pid", std::to_string(getpid())};
  o.stderr_mode = SpawnOptions::Out::kFile;
  o.stderr_path = err_file;
  PL_ASSIGN_OR_RETURN(SpawnedProcess p, Spawn(o));
  pid_ = p.pid;
  // It writes the port file once it listens; a bad start says why on stderr.
  for (int waited_ms = 0; waited_ms < 15000; waited_ms += 10) {
    if (auto text = ReadFile(port_file); text.ok()) {
      if (auto n = ParseInt64(Trim(*text)); n && *n > 0) {
        port_ = static_cast<int>(*n);
        return Status::Ok();
      }
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      auto err = ReadFile(err_file);
      return Unavailable("the model stub exited at start: " + SingleLine(Trim(err.ok() ? *err : "")));
    }
    SleepMs(10);
  }
  Stop();
  return Unavailable("the model stub did not start listening within 15 s (see " + err_file + ")");
}

void DemoModelStub::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  for (int waited_ms = 0; waited_ms < 3000; waited_ms += 10) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    SleepMs(10);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string ClaudeProfileConfig(const std::string& stub_url, const std::string& home) {
  return "# The real Claude Code CLI with the built-in profile's command line; the\n"
         "# environment points it at the demo's local model server and a private home.\n"
         "# For a real account, drop ANTHROPIC_BASE_URL and give your own key.\n"
         "[profiles.\"claude-code\"]\n"
         "env = " + EnvAsTomlInlineTable(ClaudeCodeEnvForModelServer(stub_url, home)) + "\n";
}

}  // namespace pipeline::demo
