// What supervision costs on a real Claude Code run: the time from starting
// the agent to the model server's first request, and to the run's end, for
// the Claude Code CLI started by hand (posix_spawn of the built-in
// claude-code profile's argv) and for `pipeline agent run --profile
// claude-code` (the CLI, its monitor, then the same argv), in the same
// process, against the same in-process model stub, trials interleaved.
//
//   bench_claude_overhead [N]     (default N = 5 trials of each)
//
// "first request" is when the stub sees the first Messages request of the
// trial (ServerOptions::on_model_request); it is what a user waits for before
// the agent does anything. "end" is the exit of the by-hand CLI, and for the
// supervised run the first `pipeline agent status ID --json` that no longer
// says running (polled every 10 ms once the first request has arrived), so it
// includes the monitor's harvest (reading the result, git rev-parse, the final
// transaction). Every run must end cleanly (`done`), or the bench stops with
// the run's logs. One untimed warm-up of each goes first, so the page cache
// and Claude Code's first-run files in the private HOME are the same for all.
//
// The CLI comes from scripts/install-agent-clis.sh, which is run when the
// binary is missing; when that fails the bench says why and exits 1.
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "agent/frontmatter.h"
#include "agent/profile.h"
#include "config/config.h"
#include "proc/process.h"
#include "stub/scenario.h"
#include "stub/stub_server.h"
#include "testutil/testutil.h"
#include "util/files.h"
#include "util/text.h"

using namespace pipeline;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

constexpr char kModel[] = "claude-sonnet-4-5";
// Poll interval for the supervised run's status once the agent is talking to
// the model; before that a run cannot have ended well, so polling is slower
// and does not compete with the CLI's start for the two cores.
constexpr auto kPollAfterRequest = std::chrono::milliseconds(10);
constexpr auto kPollBeforeRequest = std::chrono::milliseconds(500);
constexpr auto kTrialDeadline = std::chrono::seconds(120);

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

double Min(const std::vector<double>& v) { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }

[[noreturn]] void Die(const std::string& why) {
  fprintf(stderr, "bench_claude_overhead: %s\n", why.c_str());
  exit(1);
}

// The first model request of the current trial, as steady_clock ticks (0:
// none yet), and how many requests the trial made. Written by the stub's
// worker threads, reset by main between trials.
std::atomic<int64_t> first_request_ticks{0};
std::atomic<int> requests{0};

void OnModelRequest() {
  int64_t now = Clock::now().time_since_epoch().count();
  int64_t none = 0;
  first_request_ticks.compare_exchange_strong(none, now);
  requests.fetch_add(1);
}

void ResetTrial() {
  first_request_ticks.store(0);
  requests.store(0);
}

std::optional<Clock::time_point> FirstRequest() {
  int64_t t = first_request_ticks.load();
  if (t == 0) return std::nullopt;
  return Clock::time_point(Clock::duration(t));
}

struct Trial {
  double to_request_ms = 0;
  double to_end_ms = 0;
  double to_return_ms = 0;  // supervised only: `agent run` returned
};

struct Setup {
  std::string bin;        // built pipeline
  std::string claude;     // tools/node_modules/.bin/claude
  std::string path;       // PATH with the tools bin dir first
  std::string repo;       // git repository, `pipeline init`ed
  std::string prompt;     // prompt file
  std::string dir;        // scratch
  std::map<std::string, std::string> env;  // the profile's env
  std::vector<std::string> argv;           // the built-in profile's argv, expanded
};

std::string ToolsBinDir() { return testing::SourceDir() + "/tools/node_modules/.bin"; }

void EnsureClaudeInstalled() {
  if (PathExists(ToolsBinDir() + "/claude")) return;
  fprintf(stderr, "bench_claude_overhead: installing the agent CLIs (scripts/install-agent-clis.sh)\n");
  auto r = testing::RunArgv({testing::SourceDir() + "/scripts/install-agent-clis.sh"}, testing::SourceDir(), {},
                            600000);
  if (!r.ok() || !PathExists(ToolsBinDir() + "/claude"))
    Die("scripts/install-agent-clis.sh failed (exit " + std::to_string(r.exit.exit_code) + "): " + Trim(r.err));
}


// By hand: the profile's argv with its env, stdout to a file as a caller
// would keep it; ends when the CLI exits, which must be with a result line.
Trial RunByHand(const Setup& s, int i) {
  std::string out = s.dir + "/hand-" + std::to_string(i) + ".out";
  std::string err = s.dir + "/hand-" + std::to_string(i) + ".err";
  SpawnOptions o;
  o.argv = s.argv;
  o.cwd = s.repo;
  o.env_set = s.env;
  o.env_set["PATH"] = s.path;
  o.stdout_mode = SpawnOptions::Out::kFile;
  o.stdout_path = out;
  o.stderr_mode = SpawnOptions::Out::kFile;
  o.stderr_path = err;
  ResetTrial();
  auto t0 = Clock::now();
  auto p = Spawn(o);
  if (!p.ok()) Die("cannot start " + s.argv[0] + ": " + p.message());
  int status = 0;
  waitpid(p->pid, &status, 0);
  auto t_end = Clock::now();
  ExitInfo e = DecodeWaitStatus(status);
  std::string text = testing::ReadTextFile(out);
  auto first = FirstRequest();
  bool result_ok = text.find("\"type\":\"result\"") != std::string::npos &&
                   text.find("\"is_error\":false") != std::string::npos;
  if (!e.success() || !first || !result_ok)
    Die("the CLI started by hand did not finish cleanly (exit " + std::to_string(e.exit_code) + ", signal " +
        std::to_string(e.term_signal) + ", " + std::to_string(requests.load()) + " model requests)\nstdout:\n" +
        text + "\nstderr:\n" + testing::ReadTextFile(err));
  return {Ms(*first - t0), Ms(t_end - t0), 0};
}

// Supervised: `pipeline agent run`, then status polls until it has ended.
Trial RunSupervised(const Setup& s, int i) {
  std::string id = "claude-bench-" + std::to_string(i);
  ResetTrial();
  auto t0 = Clock::now();
  auto r = testing::RunArgv({s.bin, "agent", "run", s.prompt, "-n", id, "--profile", "claude-code", "--model", kModel},
                            s.repo, {{"PATH", s.path}});
  auto t_return = Clock::now();
  if (r.exit.exit_code != 0) Die("pipeline agent run failed: " + Trim(r.err));
  json j;
  Clock::time_point t_end, last_poll;
  while (true) {
    auto now = Clock::now();
    if (now - t0 > kTrialDeadline) Die("run " + id + " did not end in time: " + j.dump());
    // Wake every 10 ms, but before the first request ask only every 500 ms
    // (a run that fails early is still noticed).
    if (!FirstRequest() && last_poll != Clock::time_point() && now - last_poll < kPollBeforeRequest) {
      std::this_thread::sleep_for(kPollAfterRequest);
      continue;
    }
    last_poll = now;
    auto st = testing::RunArgv({s.bin, "agent", "status", id, "--json"}, s.repo);
    t_end = Clock::now();
    j = json::parse(st.out, nullptr, false);
    if (!j.is_object()) Die("agent status " + id + ": " + st.out + st.err);
    if (j.value("status", "") != "running") break;
    std::this_thread::sleep_for(kPollAfterRequest);
  }
  auto first = FirstRequest();
  if (j.value("status", "") != "done" || !first)
    Die("run " + id + " ended " + j.value("status", "?") + " (" + std::to_string(requests.load()) +
        " model requests): " + j.dump() + "\nstdout:\n" + testing::ReadTextFile(j.value("stdout_log", "")) +
        "\nstderr:\n" + testing::ReadTextFile(j.value("stderr_log", "")));
  return {Ms(*first - t0), Ms(t_end - t0), Ms(t_return - t0)};
}

// What one status poll costs, so the resolution of the supervised "end" is known.
double StatusPollMs(const Setup& s) {
  std::vector<double> v;
  for (int k = 0; k < 5; ++k) {
    auto t0 = Clock::now();
    testing::RunArgv({s.bin, "agent", "status", "claude-bench-warm", "--json"}, s.repo);
    v.push_back(Ms(Clock::now() - t0));
  }
  return Median(v);
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::max(1, atoi(argv[1])) : 5;
  EnsureClaudeInstalled();

  // One conversation, one final answer: each run is a single request.
  auto scenario = stub::ParseScenario(
      R"({"conversations":[{"name":"bench","default":true,"turns":[)"
      R"({"text":"ok","usage":{"input_tokens":100,"output_tokens":5}}]}]})");
  if (!scenario.ok()) Die("scenario: " + scenario.message());
  stub::StubServer server(std::move(*scenario));
  stub::ServerOptions so;
  so.on_model_request = OnModelRequest;
  if (Status st = server.Start(so); !st.ok()) Die("model stub: " + st.message());
  std::string url = "http://127.0.0.1:" + std::to_string(server.port());

  testing::TempDir dir;
  Setup s;
  s.dir = dir.path();
  s.bin = testing::PipelineBin();
  s.claude = ToolsBinDir() + "/claude";
  const char* path = getenv("PATH");
  s.path = ToolsBinDir() + ":" + (path && *path ? path : "/usr/bin:/bin");
  s.repo = dir / "repo";
  std::string home = dir / "home";
  if (!MakeDirs(s.repo).ok() || !MakeDirs(home + "/.claude").ok()) Die("cannot create " + s.dir);
  testing::InitGitRepo(s.repo);
  auto init = testing::RunArgv({s.bin, "init"}, s.repo);
  if (!init.ok()) Die("pipeline init: " + Trim(init.err));

  // The same environment both ways (the one the supervised tests and the demo
  // give the profile), here in config.toml.
  s.env = ClaudeCodeEnvForModelServer(url, home);
  std::string config_path = s.repo + "/.pipeline/config.toml";
  testing::WriteTextFile(config_path, "[agent]\nkill_grace_ms = 500\n\n[profiles.\"claude-code\"]\nenv = " +
                                          EnvAsTomlInlineTable(s.env) + "\n");
  s.prompt = dir / "prompt.md";
  testing::WriteTextFile(s.prompt, "---\nworkspace: " + s.repo + "\n---\n\nReply with the word ok.\n");

  // The by-hand argv is the built-in profile's, expanded as the monitor does
  // (same prompt body, model and max_iter default), with the CLI's full path
  // where the monitor finds it on PATH.
  auto config = Config::Load(config_path);
  if (!config.ok()) Die(config.message());
  auto profile = LoadProfile(*config, "claude-code");
  auto prompt = ReadPromptFile(s.prompt);
  auto max_iter = config->IntOr("agent.max_iter", 80);
  if (!profile.ok() || !prompt.ok() || !max_iter.ok()) Die("cannot expand the claude-code profile");
  Substitutions subs;
  subs.prompt_file = s.prompt;
  subs.prompt = prompt->body;
  subs.workspace = s.repo;
  subs.model = kModel;
  subs.max_iter = *max_iter;
  s.argv = ExpandCommand(profile->command, subs);
  if (s.argv.empty() || s.argv[0] != "claude") Die("unexpected claude-code command line");
  s.argv[0] = s.claude;

  // Warm-up, untimed.
  RunByHand(s, -1);
  RunSupervised(s, -1);

  std::vector<double> a_req, a_end, b_req, b_end, b_ret;
  for (int i = 0; i < n; ++i) {
    // Interleaved, so both see the same machine state; the order alternates.
    Trial a, b;
    if (i % 2 == 0) {
      a = RunByHand(s, i);
      b = RunSupervised(s, i);
    } else {
      b = RunSupervised(s, i);
      a = RunByHand(s, i);
    }
    a_req.push_back(a.to_request_ms);
    a_end.push_back(a.to_end_ms);
    b_req.push_back(b.to_request_ms);
    b_end.push_back(b.to_end_ms);
    b_ret.push_back(b.to_return_ms);
    fprintf(stderr, "trial %d: by hand %.0f / %.0f ms, supervised %.0f / %.0f ms (first request / end)\n", i,
            a.to_request_ms, a.to_end_ms, b.to_request_ms, b.to_end_ms);
  }
  double poll = StatusPollMs(s);
  server.Stop();

  auto version = testing::RunArgv({s.claude, "--version"}, s.repo, s.env);
  printf("Claude Code %s, N = %d trials each (interleaved, after one warm-up)\n", Trim(version.out).c_str(), n);
  printf("%-46s %11s %9s\n", "", "median ms", "min ms");
  printf("%-46s %11.1f %9.1f\n", "by hand: spawn -> first model request", Median(a_req), Min(a_req));
  printf("%-46s %11.1f %9.1f\n", "supervised: agent run -> first model request", Median(b_req), Min(b_req));
  printf("%-46s %11.1f %9.1f\n", "by hand: spawn -> exit", Median(a_end), Min(a_end));
  printf("%-46s %11.1f %9.1f\n", "supervised: agent run -> status ended (done)", Median(b_end), Min(b_end));
  printf("%-46s %11.1f %9.1f\n", "supervised: agent run returns", Median(b_ret), Min(b_ret));
  // A start of the CLI varies by more than the overhead from one trial to the
  // next, so the paired figure (each supervised trial less the by-hand trial
  // next to it) is the steadier one.
  auto paired = [](const std::vector<double>& b, const std::vector<double>& a) {
    std::vector<double> d;
    for (size_t k = 0; k < a.size(); ++k) d.push_back(b[k] - a[k]);
    return Median(d);
  };
  printf("overhead to first request: %+.1f ms (difference of medians), %+.1f ms (median of paired differences), "
         "%+.1f ms (difference of mins); ratio of medians %.2fx\n",
         Median(b_req) - Median(a_req), paired(b_req, a_req), Min(b_req) - Min(a_req),
         Median(b_req) / std::max(1e-9, Median(a_req)));
  printf("overhead to end:           %+.1f ms (difference of medians), %+.1f ms (median of paired differences), "
         "%+.1f ms (difference of mins); ratio of medians %.2fx\n",
         Median(b_end) - Median(a_end), paired(b_end, a_end), Min(b_end) - Min(a_end),
         Median(b_end) / std::max(1e-9, Median(a_end)));
  printf("(one `agent status --json` poll costs %.1f ms here: the resolution of the supervised end)\n", poll);
  return 0;
}
