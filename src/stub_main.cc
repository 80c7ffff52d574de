// pipeline-model-stub (run as `pipeline model-stub`): the scripted model
// server for offline agent runs. It serves until SIGINT or SIGTERM;
// --port-file tells a caller which port it got when --port is 0.
//
// A program of its own because the HTTP library brings OpenSSL, whose
// eagerly bound symbols cost every process that links it about 5 ms of CPU
// at start; `pipeline` starts a process per agent run (and seed clients one
// per `task`/`fund` call), so it stays without it.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>

#include "cli/cli_util.h"
#include "stub/scenario.h"
#include "stub/stub_server.h"
#include "util/files.h"
#include "util/log.h"

namespace pipeline {

namespace {

int ModelStubMain(const std::vector<std::string>& args) {
  CLI::App app("Serve scripted model answers (Anthropic Messages and OpenAI Responses APIs) on loopback",
               "model-stub");
  std::string scenario_path, port_file;
  stub::ServerOptions opts;
  app.add_option("--scenario", scenario_path, "Scenario file (JSON; see docs/model-stub.md)")->required();
  app.add_option("--port", opts.port, "Port to listen on (0: pick a free one)");
  app.add_option("--host", opts.host, "Loopback address to listen on");
  app.add_option("--port-file", port_file, "Write the port here once listening");
  app.add_option("--log", opts.log_path, "Append one JSON line per request to this file");
  pid_t parent = 0;
  app.add_option("--parent-pid", parent, "Stop when this process (the caller) exits");
  if (auto rc = ParseArgs(app, args)) return *rc;
  if (!stub::IsLoopbackHost(opts.host))
    return UsageError("model-stub serves loopback only; refusing host " + opts.host);
  if (opts.port < 0 || opts.port > 65535) return UsageError("--port must be 0..65535");

  auto scenario = stub::LoadScenarioFile(scenario_path);
  if (!scenario.ok()) return Fail(scenario.error());

  // Block the stop signals before the server's threads start (they inherit
  // the mask), so only the sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // A caller that dies (even by kill -9) takes the stub with it: SIGTERM on
  // the parent's death, and a parent already gone is noticed here.
  if (parent > 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) return 0;
  }

  stub::StubServer server(std::move(*scenario));
  if (auto st = server.Start(opts); !st.ok()) return Fail(st);
  if (!port_file.empty()) {
    if (auto st = WriteFileAtomic(port_file, std::to_string(server.port()) + "\n"); !st.ok()) {
      server.Stop();
      return Fail(st);
    }
  }
  LogLine("pipeline model-stub: listening on http://" + opts.host + ":" + std::to_string(server.port()));
  int sig = 0;
  sigwait(&stop_signals, &sig);
  server.Stop();
  return 0;
}

}  // namespace
}  // namespace pipeline

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return pipeline::ModelStubMain(args);
}
