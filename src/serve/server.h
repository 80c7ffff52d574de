// The HTTP side of `pipeline serve`: routes of the JSON API, server-sent
// events, /metrics and the dashboard's static files, behind the auth policy.
// Handlers run on the server's worker threads; each thread has its own
// store connection (a Db is used by one thread), and the change feed is the
// only state they share.
//
// Routes (all JSON unless said):
//   GET  /api/status                      the status snapshot
//   GET  /api/tasks[?status=S][&ids=a,b]  every task (or those named), compact
//   POST /api/tasks                       create a task
//   GET  /api/tasks/{id}                  task, timeline, runs, cost, question, diff
//   POST /api/tasks/{id}/comment          a human comment (the answer to a question)
//   POST /api/tasks/{id}/approve|reject|retry|cancel
//   GET  /api/runs/{id}                   a run
//   GET  /api/runs/{id}/log?offset=N&stream=stdout|stderr
//   GET  /api/budgets                     every domain's figures
//   POST /api/budgets/{domain}/grant      {cents}
//   POST /api/domains/{domain}/pause|resume
//   GET  /api/queue                       dev and merge queues
//   GET  /api/events                      text/event-stream of changes
//   GET  /metrics                         Prometheus text
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "serve/auth.h"
#include "serve/change_feed.h"
#include "serve/context.h"
#include "serve/task_list.h"
#include "util/status.h"

namespace httplib {
class Server;
}

namespace pipeline::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;             // 0: any free port
  std::string assets_dir;   // the dashboard's files (web/)
  std::string token;        // required beyond loopback
  int threads = 64;         // every open event stream holds one
  size_t max_diff_bytes = 1 << 20;
};

class Server {
 public:
  static constexpr size_t kMaxTaskIds = 1000;  // per GET /api/tasks?ids=
  Server(ServeContext ctx, ServerOptions opts, ChangeFeed& feed);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and serves on a background thread.
  Status Start();
  int port() const { return port_; }
  void Stop();

 private:
  void Route();
  Db* ThreadDb(std::string* error);

  ServeContext ctx_;
  ServerOptions opts_;
  ChangeFeed& feed_;
  AuthPolicy policy_;
  TaskListCache task_list_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace pipeline::serve
