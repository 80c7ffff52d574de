#include "sched/demo_claude.h"

#include <stdlib.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "proc/process.h"
#include "sched/demo_scenario.h"
#include "stub/stub_server.h"
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

std::string TomlString(const std::string& s) { return nlohmann::json(s).dump(); }

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

DemoModelStub::DemoModelStub() = default;
DemoModelStub::~DemoModelStub() {
  if (server_) server_->Stop();
}

Status DemoModelStub::Start(const std::string& state_dir) {
  nlohmann::json scenario = DemoScenario();
  PL_RETURN_IF_ERROR(WriteFileAtomic(state_dir + "/model-stub.json", scenario.dump(2) + "\n"));
  PL_ASSIGN_OR_RETURN(stub::Scenario parsed, stub::ParseScenario(scenario.dump()));
  server_ = std::make_unique<stub::StubServer>(std::move(parsed));
  stub::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.log_path = log_path_ = state_dir + "/model-stub.log";
  return server_->Start(o);
}

std::string DemoModelStub::url() const { return "http://127.0.0.1:" + std::to_string(server_ ? server_->port() : 0); }

std::string ClaudeProfileConfig(const std::string& stub_url, const std::string& home) {
  return "# The real Claude Code CLI with the built-in profile's command line; the\n"
         "# environment points it at the demo's local model server and a private home.\n"
         "# For a real account, drop ANTHROPIC_BASE_URL and give your own key.\n"
         "[profiles.\"claude-code\"]\n"
         "env = { ANTHROPIC_BASE_URL = " + TomlString(stub_url) + ", ANTHROPIC_API_KEY = \"demo-key\", HOME = " +
         TomlString(home) + ", CLAUDE_CONFIG_DIR = " + TomlString(home + "/.claude") +
         ", DISABLE_AUTOUPDATER = \"1\", DISABLE_TELEMETRY = \"1\", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = \"1\""
         ", CLAUDE_CODE_MAX_RETRIES = \"2\" }\n";
}

}  // namespace pipeline::demo
