// pipeline-serve (run as `pipeline serve`): the dashboard and JSON API of one
// store, with live updates and notifications. Serves until SIGINT or SIGTERM.
//
// A program of its own for the reason pipeline-model-stub is one: the HTTP
// library brings OpenSSL, which would cost every `pipeline` process ~5 ms
// at start.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>

#include "cli/cli_util.h"
#include "git/git.h"
#include "proc/process.h"
#include "serve/auth.h"
#include "serve/change_feed.h"
#include "serve/notifier.h"
#include "serve/server.h"
#include "store/root.h"
#include "util/files.h"
#include "util/log.h"
#include "util/text.h"

namespace pipeline {

namespace {

// "ADDR:PORT", "[v6]:PORT" or ":PORT" (loopback).
Status ParseListen(const std::string& s, std::string* host, int* port) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos) return InvalidArgument("--listen must be ADDR:PORT, e.g. 127.0.0.1:8765");
  std::string h = s.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  auto p = ParseInt64(s.substr(colon + 1));
  if (!p || *p < 0 || *p > 65535) return InvalidArgument("--listen port must be 0..65535");
  *host = h.empty() ? "127.0.0.1" : h;
  *port = static_cast<int>(*p);
  return Status::Ok();
}

// --assets, else the installed copy (<prefix>/share/pipeline/web), else the
// source tree's web/ (a build that was not installed).
std::string FindAssets(const std::string& flag) {
  if (!flag.empty()) return AbsolutePath(flag);
  std::string self = SelfExePath();
  std::string bin_dir = self.substr(0, self.rfind('/'));
  std::string installed = bin_dir + "/../share/pipeline/web";
  if (PathExists(installed + "/index.html")) return installed;
#ifdef PIPELINE_WEB_SOURCE_DIR
  if (PathExists(std::string(PIPELINE_WEB_SOURCE_DIR) + "/index.html")) return PIPELINE_WEB_SOURCE_DIR;
#endif
  return "";
}

int ServeMain(const std::vector<std::string>& args) {
  CLI::App app("Serve the dashboard and JSON API of a store (live updates, steering, metrics)", "pipeline serve");
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  std::string listen = "127.0.0.1:8765", assets_flag, port_file;
  app.add_option("--listen", listen, "ADDR:PORT to listen on (default 127.0.0.1:8765; port 0 picks one). "
                                     "Beyond loopback every request needs the token in .pipeline/serve-token");
  app.add_option("--assets", assets_flag, "The dashboard's files (default: installed with pipeline)");
  app.add_option("--port-file", port_file, "Write the port here once listening");
  pid_t parent = 0;
  app.add_option("--parent-pid", parent, "Stop when this process (the caller) exits");
  if (auto rc = ParseArgs(app, args)) return *rc;

  serve::ServerOptions opts;
  if (Status st = ParseListen(listen, &opts.host, &opts.port); !st.ok()) return UsageError(st.message());
  opts.assets_dir = FindAssets(assets_flag);
  if (opts.assets_dir.empty() || !PathExists(opts.assets_dir + "/index.html"))
    return Fail(NotFound("no dashboard files (index.html) found; give --assets DIR (the web/ folder)"));

  auto setup = LoadSchedulerSetup(flags.root);
  if (!setup.ok()) return Fail(setup.error());
  // Migrates the store once, before any worker opens it.
  auto db = OpenStore(setup->paths);
  if (!db.ok()) return Fail(db.error());

  serve::ServeContext ctx;
  ctx.paths = setup->paths;
  ctx.options = setup->options;
  auto def_budget = setup->config.IntOr("fund.default_budget_cents", 0);
  if (!def_budget.ok()) return Fail(def_budget.error());
  ctx.default_budget_cents = *def_budget;
  ctx.base = ctx.options.base;
  if (ctx.base.empty()) {
    Git git(RealProcessRunner(), ctx.paths.repo());
    if (auto b = git.CurrentBranch(); b.ok()) ctx.base = *b;
  }
  auto notify = setup->config.StringArray("notify.command");
  if (!notify.ok()) return Fail(notify.error());
  if (*notify && (*notify)->empty()) return Fail(InvalidArgument("notify.command is an empty array"));

  auto token = serve::LoadOrCreateToken(ctx.paths.root + "/serve-token");
  if (!token.ok()) return Fail(token.error());
  opts.token = *token;

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  if (parent > 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) return 0;
  }

  serve::ChangeFeed feed(ctx.paths);
  if (Status st = feed.Start(); !st.ok()) return Fail(st);
  serve::Server server(ctx, opts, feed);
  if (Status st = server.Start(); !st.ok()) return Fail(st);
  std::string shown_host = opts.host.find(':') != std::string::npos ? "[" + opts.host + "]" : opts.host;
  std::string url = "http://" + shown_host + ":" + std::to_string(server.port()) + "/";
  std::unique_ptr<serve::Notifier> notifier;
  if (*notify) {
    notifier = std::make_unique<serve::Notifier>(ctx.paths, **notify, url, feed, RealProcessRunner());
    if (Status st = notifier->Start(); !st.ok()) return Fail(st);
  }
  if (!port_file.empty()) {
    if (Status st = WriteFileAtomic(port_file, std::to_string(server.port()) + "\n"); !st.ok()) return Fail(st);
  }
  Log("serve: dashboard at {}{}", url,
      serve::IsLoopbackAddress(opts.host) ? "" : " (send the token in .pipeline/serve-token)");
  int sig = 0;
  sigwait(&stop_signals, &sig);
  feed.Stop();
  if (notifier) notifier->Stop();
  server.Stop();
  return 0;
}

}  // namespace
}  // namespace pipeline

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return pipeline::ServeMain(args);
}
