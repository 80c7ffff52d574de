#include "stub/stub_server.h"

#include <arpa/inet.h>
#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "stub/anthropic_api.h"
#include "stub/request_view.h"
#include "stub/responses_api.h"
#include "util/clock.h"

namespace pipeline::stub {

using nlohmann::json;

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr a{};
  if (inet_pton(AF_INET, host.c_str(), &a) != 1) return false;
  return (ntohl(a.s_addr) >> 24) == 127;
}

StubServer::StubServer(Scenario scenario)
    : scenario_(std::move(scenario)), server_(std::make_unique<httplib::Server>()) {}

StubServer::~StubServer() {
  Stop();
  if (log_) fclose(log_);
}

Status StubServer::Start(const ServerOptions& opts) {
  if (!IsLoopbackHost(opts.host))
    return InvalidArgument("model-stub serves loopback only; refusing host " + opts.host);
  if (opts.port < 0 || opts.port > 65535) return InvalidArgument("port must be 0..65535");
  if (!opts.log_path.empty()) {
    log_ = fopen(opts.log_path.c_str(), "ae");
    if (!log_) return IOError("cannot open log " + opts.log_path + ": " + strerror(errno));
  }
  on_model_request_ = opts.on_model_request;
  Route();
  if (opts.port == 0) {
    port_ = server_->bind_to_any_port(opts.host);
    if (port_ <= 0) return Unavailable("cannot bind " + opts.host);
  } else {
    if (!server_->bind_to_port(opts.host, opts.port))
      return Unavailable("cannot bind " + opts.host + ":" + std::to_string(opts.port));
    port_ = opts.port;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return Status::Ok();
}

void StubServer::Stop() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

void StubServer::Wait() {
  if (thread_.joinable()) thread_.join();
}

void StubServer::Log(const std::string& line) {
  std::lock_guard<std::mutex> lock(log_mu_);
  if (!log_) return;
  fputs(line.c_str(), log_);
  fputc('\n', log_);
  fflush(log_);
}

void StubServer::Route() {
  server_->Post("/v1/messages", [this](const httplib::Request& q, httplib::Response& r) { HandleModel(q, r, true); });
  server_->Post("/v1/responses", [this](const httplib::Request& q, httplib::Response& r) { HandleModel(q, r, false); });
  // Claude Code may count tokens before a long prompt; a rough count is harmless.
  server_->Post("/v1/messages/count_tokens", [](const httplib::Request& q, httplib::Response& r) {
    r.set_content(json{{"input_tokens", static_cast<int64_t>(q.body.size() / 4)}}.dump(), "application/json");
  });
  auto health = [](const httplib::Request&, httplib::Response& r) { r.set_content("{\"ok\":true}", "application/json"); };
  server_->Get("/", health);
  server_->Get("/health", health);
  server_->Get("/v1/models", [](const httplib::Request&, httplib::Response& r) {
    r.set_content(json{{"object", "list"}, {"data", json::array()}}.dump(), "application/json");
  });
  server_->set_logger([this](const httplib::Request& q, const httplib::Response& r) {
    if (q.path == "/v1/messages" || q.path == "/v1/responses") return;  // HandleModel logs these with more detail
    Log(json{{"time", FormatIso8601(SystemClock().Now())}, {"method", q.method}, {"path", q.path}, {"status", r.status}}
            .dump());
  });
  server_->set_error_handler([](const httplib::Request& q, httplib::Response& r) {
    if (!r.body.empty()) return;
    r.set_content(AnthropicError("not_found_error", "model-stub: no route for " + q.method + " " + q.path).dump(),
                  "application/json");
  });
}

void StubServer::HandleModel(const httplib::Request& req, httplib::Response& res, bool anthropic) {
  if (on_model_request_) on_model_request_();
  json log = {{"time", FormatIso8601(SystemClock().Now())}, {"method", req.method}, {"path", req.path},
              {"api", anthropic ? "anthropic" : "responses"}};
  auto fail = [&](int status, const std::string& type, const std::string& message) {
    res.status = status;
    json body = anthropic ? AnthropicError(type, message) : ResponsesError(status, type, message);
    res.set_content(body.dump(), "application/json");
    log["status"] = status;
    log["error"] = message;
    Log(log.dump());
  };
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) return fail(400, "invalid_request_error", "model-stub: request body is not JSON");
  auto view = anthropic ? ReadAnthropicRequest(body) : ReadResponsesRequest(body);
  if (!view.ok()) return fail(400, "invalid_request_error", "model-stub: " + view.message());
  log["model"] = view->model;
  log["position"] = view->position;
  auto conv = FindConversation(scenario_, view->user_text);
  if (!conv) {
    return fail(400, "invalid_request_error",
                "model-stub: no scenario conversation matches this request and there is no default");
  }
  const Conversation& c = scenario_.conversations[*conv];
  log["conversation"] = c.name;
  int64_t attempt = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    attempt = attempts_[{*conv, view->position}]++;
  }
  log["attempt"] = attempt;
  Pick pick = PickTurn(c, view->position, attempt);
  if (!pick.turn) {
    return fail(400, "invalid_request_error",
                "model-stub: scenario conversation \"" + c.name + "\" has no turn for answer " +
                    std::to_string(view->position + 1));
  }
  const Turn& t = *pick.turn;
  log["turn"] = TurnKindName(t.kind);
  if (t.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(t.delay_ms));
  if (t.kind == TurnKind::kError) {
    if (t.retry_after_ms >= 0) {
      res.set_header("retry-after-ms", std::to_string(t.retry_after_ms));
      res.set_header("retry-after", std::to_string((t.retry_after_ms + 999) / 1000));
    }
    return fail(t.http_status, t.error_type, t.error_message);
  }
  // Stable per conversation and position, so a retried request gets the same ids.
  std::string id = "stub" + std::to_string(*conv) + "p" + std::to_string(view->position);
  int64_t now_s = SystemClock().Now() / 1'000'000;
  if (view->stream) {
    res.set_content(anthropic ? AnthropicStream(t, *view, id) : ResponsesStream(t, *view, id, now_s),
                    "text/event-stream");
    res.set_header("Cache-Control", "no-cache");
  } else {
    res.set_content(anthropic ? AnthropicMessage(t, *view, id).dump() : ResponsesObject(t, *view, id, now_s).dump(),
                    "application/json");
  }
  log["status"] = 200;
  Log(log.dump());
}

}  // namespace pipeline::stub
