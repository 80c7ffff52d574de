#include "serve/server.h"

#include <httplib.h>

#include "git/paths.h"
#include "serve/metrics.h"
#include "serve/reply.h"
#include "serve/steering.h"
#include "serve/task_list.h"
#include "serve/views.h"
#include "tasks/task.h"
#include "util/clock.h"
#include "util/text.h"

namespace pipeline::serve {

using nlohmann::json;

namespace {

void Send(httplib::Response& res, const Reply& r) {
  res.status = r.status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(r.body, r.content_type.c_str());
}

template <typename T>
void SendResult(httplib::Response& res, const Result<T>& r) {
  if (!r.ok()) return Send(res, ErrorReply(r.error()));
  Send(res, JsonReply(*r));
}

// The request body as JSON: an empty body is {}.
Result<json> Body(const httplib::Request& req) {
  if (Trim(req.body).empty()) return json::object();
  json j = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("the request body is not valid JSON");
  return j;
}

Result<int64_t> IntParam(const httplib::Request& req, const char* name, int64_t def) {
  if (!req.has_param(name)) return def;
  auto v = ParseInt64(req.get_param_value(name));
  if (!v) return InvalidArgument(std::string(name) + " must be an integer");
  return *v;
}

}  // namespace

Server::Server(ServeContext ctx, ServerOptions opts, ChangeFeed& feed)
    : ctx_(std::move(ctx)), opts_(std::move(opts)), feed_(feed), task_list_(ctx_.paths.db()) {
  policy_.loopback = IsLoopbackAddress(opts_.host);
  policy_.token = opts_.token;
  policy_.host = opts_.host;
}

Server::~Server() { Stop(); }

Db* Server::ThreadDb(std::string* error) {
  thread_local std::unique_ptr<Db> db;
  if (!db) {
    auto opened = Db::Open(ctx_.paths.db(), /*create=*/false);
    if (!opened.ok()) {
      *error = opened.error().message;
      return nullptr;
    }
    db = std::move(opened).value();
    (void)db->Exec("PRAGMA mmap_size = 268435456");
  }
  return db.get();
}

Status Server::Start() {
  http_ = std::make_unique<httplib::Server>();
  int threads = opts_.threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http_->set_payload_max_length(4 << 20);
  // The library writes headers and body separately: without this, Nagle holds
  // the body of every keep-alive answer behind the client's delayed ACK (40 ms).
  http_->set_tcp_nodelay(true);
  Route();
  if (opts_.port == 0) {
    port_ = http_->bind_to_any_port(opts_.host);
    if (port_ <= 0) return Unavailable("cannot bind " + opts_.host);
  } else {
    if (!http_->bind_to_port(opts_.host, opts_.port))
      return Unavailable("cannot bind " + opts_.host + ":" + std::to_string(opts_.port));
    port_ = opts_.port;
  }
  policy_.port = port_;
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  return Status::Ok();
}

void Server::Stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

void Server::Route() {
  httplib::Server& s = *http_;
  using Req = const httplib::Request&;
  using Res = httplib::Response&;

  // Auth for the API and metrics; the dashboard's files carry no data.
  s.set_pre_routing_handler([this](Req req, Res res) {
    bool guarded = StartsWith(req.path, "/api/") || req.path == "/metrics";
    if (!guarded) return httplib::Server::HandlerResponse::Unhandled;
    RequestFacts f;
    f.write = req.method != "GET" && req.method != "HEAD";
    f.authorization = req.get_header_value("Authorization");
    f.custom_header = req.get_header_value("X-Pipeline-Request");
    f.host_header = req.get_header_value("Host");
    if (!f.write && req.has_param("token")) f.query_token = req.get_param_value("token");
    Status st = CheckRequest(policy_, f);
    if (st.ok()) return httplib::Server::HandlerResponse::Unhandled;
    bool unauthorized = StartsWith(st.message(), "unauthorized");
    Send(res, ErrorReply(unauthorized ? 401 : 403, st.message()));
    if (unauthorized) res.set_header("WWW-Authenticate", "Bearer");
    return httplib::Server::HandlerResponse::Handled;
  });
  s.set_error_handler([](Req, Res res) {
    if (res.body.empty()) {
      Reply r = ErrorReply(res.status, res.status == 404 ? "not found" : "request failed");
      res.set_content(r.body, r.content_type.c_str());
    }
  });
  s.set_exception_handler([](Req, Res res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = std::string("internal error: ") + e.what();
    } catch (...) {
    }
    Send(res, ErrorReply(500, what));
  });

  // Runs fn with this thread's store connection, or answers 500.
  auto with_db = [this](Res res, const std::function<void(Db&)>& fn) {
    std::string err;
    Db* db = ThreadDb(&err);
    if (!db) return Send(res, ErrorReply(500, "cannot open the store: " + err));
    fn(*db);
  };
  // A task id from the URL, validated before any use.
  auto task_route = [this, with_db](const std::function<Result<json>(Db&, const std::string&, const json&)>& fn) {
    return [this, with_db, fn](Req req, Res res) {
      const std::string id = req.matches[1];
      if (Status st = ValidateTaskIdForPath(id); !st.ok()) return Send(res, ErrorReply(st.error()));
      auto body = Body(req);
      if (!body.ok()) return Send(res, ErrorReply(body.error()));
      with_db(res, [&](Db& db) { SendResult(res, fn(db, id, *body)); });
    };
  };

  s.Get("/api/status", [this, with_db](Req, Res res) {
    with_db(res, [&](Db& db) { SendResult(res, StatusView(db, ctx_, SystemClock())); });
  });
  // The board's first draw asks for every task (from the cache, rebuilt
  // after a commit), its live updates for the tasks an event names (?ids=).
  s.Get("/api/tasks", [this, with_db](Req req, Res res) {
    std::optional<std::string> status;
    if (req.has_param("status")) {
      auto st = ParseTaskStatus(req.get_param_value("status"));
      if (!st) return Send(res, ErrorReply(400, "unknown status " + Quoted(req.get_param_value("status"))));
      status = TaskStatusName(*st);
    }
    std::optional<std::vector<std::string>> ids;
    if (req.has_param("ids")) {
      ids.emplace();
      for (const std::string& id : Split(req.get_param_value("ids"), ',')) {
        if (id.empty()) continue;
        if (Status st = ValidateTaskIdForPath(id); !st.ok()) return Send(res, ErrorReply(st.error()));
        ids->push_back(id);
      }
      if (ids->size() > kMaxTaskIds)
        return Send(res, ErrorReply(400, "at most " + std::to_string(kMaxTaskIds) + " ids at once"));
    }
    with_db(res, [&](Db& db) {
      Micros now = SystemClock().Now();
      if (ids) {
        auto rows = ReadTaskListRows(db, &*ids);
        if (!rows.ok()) return Send(res, ErrorReply(rows.error()));
        return Send(res, Reply{200, TaskListJson(*rows, now, status)});
      }
      auto rows = task_list_.Rows(db);
      if (!rows.ok()) return Send(res, ErrorReply(rows.error()));
      Send(res, Reply{200, TaskListJson(**rows, now, status)});
    });
  });
  s.Post("/api/tasks", [with_db](Req req, Res res) {
    auto body = Body(req);
    if (!body.ok()) return Send(res, ErrorReply(body.error()));
    with_db(res, [&](Db& db) {
      auto r = CreateTaskAction(db, SystemClock(), *body);
      if (!r.ok()) return Send(res, ErrorReply(r.error()));
      Send(res, JsonReply(*r, 201));
    });
  });
  s.Get(R"(/api/tasks/([^/]+))", task_route([this](Db& db, const std::string& id, const json&) {
          return TaskDetailView(db, ctx_, id, opts_.max_diff_bytes);
        }));
  s.Post(R"(/api/tasks/([^/]+)/comment)", task_route([](Db& db, const std::string& id, const json& b) {
           return CommentAction(db, SystemClock(), id, b);
         }));
  s.Post(R"(/api/tasks/([^/]+)/approve)", task_route([](Db& db, const std::string& id, const json& b) {
           return ApproveAction(db, SystemClock(), id, b);
         }));
  s.Post(R"(/api/tasks/([^/]+)/reject)", task_route([](Db& db, const std::string& id, const json& b) {
           return RejectAction(db, SystemClock(), id, b);
         }));
  s.Post(R"(/api/tasks/([^/]+)/retry)", task_route([](Db& db, const std::string& id, const json& b) -> Result<json> {
           if (!b.empty()) return InvalidArgument("retry takes no fields");
           return RetryAction(db, SystemClock(), id);
         }));
  s.Post(R"(/api/tasks/([^/]+)/cancel)", task_route([this](Db& db, const std::string& id, const json& b) -> Result<json> {
           if (!b.empty()) return InvalidArgument("cancel takes no fields");
           return CancelAction(db, SystemClock(), ctx_, id);
         }));

  s.Get(R"(/api/runs/([^/]+))", [with_db](Req req, Res res) {
    const std::string id = req.matches[1];
    with_db(res, [&](Db& db) { SendResult(res, RunView(db, id)); });
  });
  s.Get(R"(/api/runs/([^/]+)/log)", [with_db](Req req, Res res) {
    const std::string id = req.matches[1];
    auto offset = IntParam(req, "offset", 0);
    if (!offset.ok()) return Send(res, ErrorReply(offset.error()));
    auto max = IntParam(req, "max", 256 << 10);
    if (!max.ok() || *max <= 0 || *max > (4 << 20)) return Send(res, ErrorReply(400, "max must be 1..4194304"));
    std::string stream = req.has_param("stream") ? req.get_param_value("stream") : "stdout";
    with_db(res, [&](Db& db) { SendResult(res, RunLogView(db, id, stream, *offset, *max)); });
  });

  s.Get("/api/budgets", [this, with_db](Req, Res res) {
    with_db(res, [&](Db& db) { SendResult(res, BudgetsView(db, ctx_, SystemClock())); });
  });
  s.Post(R"(/api/budgets/([^/]+)/grant)", [this, with_db](Req req, Res res) {
    const std::string domain = req.matches[1];
    auto body = Body(req);
    if (!body.ok()) return Send(res, ErrorReply(body.error()));
    with_db(res, [&](Db& db) { SendResult(res, GrantAction(db, SystemClock(), ctx_, domain, *body)); });
  });
  s.Post(R"(/api/domains/([^/]+)/(pause|resume))", [with_db](Req req, Res res) {
    const std::string domain = req.matches[1];
    const bool pause = req.matches[2] == "pause";
    with_db(res, [&](Db& db) { SendResult(res, PauseAction(db, SystemClock(), domain, pause)); });
  });
  s.Get("/api/queue", [this, with_db](Req req, Res res) {
    auto limit = IntParam(req, "limit", 1000);
    if (!limit.ok() || *limit <= 0 || *limit > 100000) return Send(res, ErrorReply(400, "limit must be 1..100000"));
    with_db(res, [&](Db& db) { SendResult(res, QueueView(db, ctx_, SystemClock(), static_cast<int>(*limit))); });
  });
  s.Get("/metrics", [with_db](Req, Res res) {
    with_db(res, [&](Db& db) {
      auto text = MetricsText(db, SystemClock());
      if (!text.ok()) return Send(res, ErrorReply(text.error()));
      res.set_content(*text, "text/plain; version=0.0.4");
    });
  });

  // Server-sent events: one "change" event per published change (merged
  // when the reader is slower than the store), a comment line every 15 s so
  // proxies keep the stream open. Last-Event-ID resumes after a reconnect.
  s.Get("/api/events", [this](Req req, Res res) {
    int64_t since = feed_.version();
    if (auto last = ParseInt64(req.get_header_value("Last-Event-ID")); last && *last >= 0 && *last <= since)
      since = *last;
    auto seen = std::make_shared<int64_t>(since);
    auto greeted = std::make_shared<bool>(false);
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider("text/event-stream", [this, seen, greeted](size_t, httplib::DataSink& sink) {
      std::string msg;
      if (!*greeted) {
        *greeted = true;
        msg = "retry: 1000\nevent: hello\ndata: " + DumpJson(json{{"version", *seen}}) + "\n\n";
        return sink.write(msg.data(), msg.size());
      }
      auto c = feed_.WaitAfter(*seen, 15000);
      if (feed_.stopped()) {
        sink.done();
        return false;
      }
      if (c) {
        *seen = c->version;
        msg = "id: " + std::to_string(c->version) + "\nevent: change\ndata: " + DumpJson(c->ToJson()) + "\n\n";
      } else {
        msg = ": keep-alive\n\n";
      }
      return sink.write(msg.data(), msg.size());
    });
  });

  if (!opts_.assets_dir.empty()) {
    // Not compressed either (see Reply::content_type); CSS and HTML are
    // compressed by the library whatever their type, and are small.
    s.set_file_extension_and_mimetype_mapping("js", "application/javascript; charset=utf-8");
    s.set_mount_point("/", opts_.assets_dir);
  }
}

}  // namespace pipeline::serve
