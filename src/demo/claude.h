// The demo with the real Claude Code CLI: finding the CLI, and playing its
// model with the scripted model server (pipeline-model-stub, next to this
// binary) on a loopback port, so the demo needs neither a network nor an
// account. The server is the demo's child and dies with it, even when the
// demo is killed.
#pragma once

#include <sys/types.h>

#include <string>

#include "util/status.h"

namespace pipeline::demo {

struct ClaudeCli {
  std::string path;     // absolute path of the `claude` executable
  std::string version;  // what `claude --version` printed, e.g. "2.1.332 (Claude Code)"
};

// The CLI to run: explicit_path when given (it must run), else the first of
// tools/node_modules/.bin/claude in the source tree this binary was built in
// (<exe dir>/../../tools, where scripts/install-agent-clis.sh puts it) and
// `claude` on PATH. NotFound says where it looked and what to do.
Result<ClaudeCli> FindClaudeCli(const std::string& explicit_path, const std::string& self_exe);

// The model side of the demo: the scenario (DemoScenario) written to
// <state_dir>/model-stub.json for a person to read, served on 127.0.0.1 with
// every request logged to <state_dir>/model-stub.log (its own messages in
// model-stub.err).
class DemoModelStub {
 public:
  DemoModelStub() = default;
  ~DemoModelStub() { Stop(); }
  DemoModelStub(const DemoModelStub&) = delete;
  DemoModelStub& operator=(const DemoModelStub&) = delete;

  // stub_exe: the pipeline-model-stub program.
  Status Start(const std::string& stub_exe, const std::string& state_dir);
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // SIGTERM, then SIGKILL after a grace period. Idempotent.
  void Stop();

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// The config.toml section that points the built-in claude-code profile (its
// command line unchanged) at the stub, with a private home under state_dir
// so nothing of the user's own Claude Code settings is read or written.
std::string ClaudeProfileConfig(const std::string& stub_url, const std::string& home);

}  // namespace pipeline::demo
