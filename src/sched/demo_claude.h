// The demo with the real Claude Code CLI: finding the CLI, and playing its
// model in-process with the scripted model server on a loopback port, so the
// demo needs neither a network nor an account. The server lives exactly as
// long as the demo (no stray process is left if the demo is killed).
#pragma once

#include <memory>
#include <string>

#include "util/status.h"

namespace pipeline::stub {
class StubServer;
}

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
// every request logged to <state_dir>/model-stub.log.
class DemoModelStub {
 public:
  DemoModelStub();
  ~DemoModelStub();
  DemoModelStub(const DemoModelStub&) = delete;
  DemoModelStub& operator=(const DemoModelStub&) = delete;

  Status Start(const std::string& state_dir);
  std::string url() const;
  std::string log_path() const { return log_path_; }

 private:
  std::unique_ptr<stub::StubServer> server_;
  std::string log_path_;
};

// The config.toml section that points the built-in claude-code profile (its
// command line unchanged) at the stub, with a private home under state_dir
// so nothing of the user's own Claude Code settings is read or written.
std::string ClaudeProfileConfig(const std::string& stub_url, const std::string& home);

}  // namespace pipeline::demo
