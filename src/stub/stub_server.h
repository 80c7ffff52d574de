// The scripted model server: an HTTP server on a loopback address that answers
// the Anthropic Messages API and the OpenAI Responses API from a Scenario.
// It keeps one piece of state, the number of requests seen at each
// (conversation, position), so that error turns with "times" can give way to
// the answer after that many retries; everything else is read from the request.
//
// Thread rules: Start() and Stop() from one thread; handlers run on the
// server's own worker threads and share only the counters (under mu_) and
// the log file (under log_mu_).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "stub/scenario.h"
#include "util/status.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace pipeline::stub {

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback only: 127.x.x.x, ::1 or localhost
  int port = 0;                    // 0: pick a free one
  std::string log_path;            // one JSON line per request; empty: none
  // Called on a worker thread as each model request (messages or responses)
  // arrives, before it is read; benchmarks time the agents' first request.
  std::function<void()> on_model_request;
};

class StubServer {
 public:
  explicit StubServer(Scenario scenario);
  ~StubServer();
  StubServer(const StubServer&) = delete;
  StubServer& operator=(const StubServer&) = delete;

  // Binds and starts serving on a background thread. Refuses a host that is
  // not loopback (InvalidArgument) and a port it cannot bind (Unavailable).
  Status Start(const ServerOptions& opts);
  // The bound port (after Start).
  int port() const { return port_; }
  // Stops serving and joins the thread. Idempotent.
  void Stop();
  // Blocks until the server stops (by Stop() from another thread).
  void Wait();

 private:
  void Route();
  void HandleModel(const httplib::Request& req, httplib::Response& res, bool anthropic);
  void Log(const std::string& line);

  Scenario scenario_;
  std::function<void()> on_model_request_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::map<std::pair<size_t, int64_t>, int64_t> attempts_;  // GUARDED_BY(mu_)
  std::mutex log_mu_;
  FILE* log_ = nullptr;  // GUARDED_BY(log_mu_)
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(const std::string& host);

}  // namespace pipeline::stub
