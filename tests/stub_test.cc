// `pipeline model-stub` as an HTTP client sees it: both APIs' event streams,
// tool calls, usage, scripted errors and delays, uncovered requests, bad
// scenario files and non-loopback hosts.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "stub_harness.h"
#include "stub/sse.h"
#include "testutil/testutil.h"
#include "util/text.h"

namespace pipeline::testing {
namespace {

using nlohmann::json;

constexpr const char* kScenario = R"({"conversations": [
  {"name": "hello", "match": "TASK-1", "turns": [
    {"text": "Writing it.", "write": {"path": "hello.txt", "content": "hi\n"},
     "usage": {"input_tokens": 120, "output_tokens": 30, "cache_read_tokens": 5, "cache_creation_tokens": 7}},
    {"bash": "git commit -am 'add hello'", "usage": {"input_tokens": 200, "output_tokens": 10, "reasoning_tokens": 4}},
    {"text": "Done.", "usage": {"input_tokens": 300, "output_tokens": 3}}]},
  {"name": "flaky", "match": "TASK-FLAKY", "turns": [
    {"error": {"status": 429, "message": "slow down"}, "times": 1, "retry_after_ms": 10},
    {"error": {"status": 500}, "times": 1},
    {"text": "recovered"}]},
  {"name": "overloaded", "match": "TASK-529", "turns": [{"error": {"status": 529}}]},
  {"name": "slow", "match": "TASK-SLOW", "turns": [{"text": "late", "delay_ms": 300}]}
]})";


json AnthropicBody(const std::string& prompt, int answers, bool stream = true) {
  json messages = json::array({{{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", prompt}}})}}});
  for (int i = 0; i < answers; ++i) {
    std::string id = "t" + std::to_string(i);
    messages.push_back({{"role", "assistant"},
                        {"content", json::array({{{"type", "tool_use"}, {"id", id}, {"name", "Bash"}, {"input", json::object()}}})}});
    messages.push_back({{"role", "user"},
                        {"content", json::array({{{"type", "tool_result"}, {"tool_use_id", id}, {"content", "ok"}}})}});
  }
  return {{"model", "claude-test"}, {"max_tokens", 1000}, {"stream", stream},
          {"system", "Primary working directory: /work/x\n"}, {"messages", messages}};
}

json ResponsesBody(const std::string& prompt, int answers) {
  json input = json::array({{{"type", "message"}, {"role", "user"},
                             {"content", json::array({{{"type", "input_text"}, {"text", prompt}}})}}});
  for (int i = 0; i < answers; ++i) {
    std::string id = "c" + std::to_string(i);
    input.push_back({{"type", "function_call"}, {"name", "exec_command"}, {"arguments", "{}"}, {"call_id", id}});
    input.push_back({{"type", "function_call_output"}, {"call_id", id}, {"output", "ok"}});
  }
  return {{"model", "gpt-test"}, {"stream", true}, {"input", input}};
}

class StubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteTextFile(dir_ / "scenario.json", kScenario);
    stub_ = std::make_unique<StubProcess>(dir_ / "scenario.json", dir_.path());
    ASSERT_TRUE(stub_->ok()) << stub_->error();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", stub_->port());
    client_->set_read_timeout(10, 0);
  }
  httplib::Result Post(const std::string& path, const json& body) {
    return client_->Post(path, body.dump(), "application/json");
  }
  TempDir dir_;
  std::unique_ptr<StubProcess> stub_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(StubTest, AnthropicToolCallStream) {
  auto r = Post("/v1/messages?beta=true", AnthropicBody("please do TASK-1", 0));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  auto ev = stub::ParseSse(r->body);
  ASSERT_EQ(ev.size(), 9u) << r->body;
  EXPECT_EQ(ev.front().first, "message_start");
  EXPECT_EQ(ev.front().second["message"]["model"], "claude-test");
  EXPECT_EQ(ev.front().second["message"]["usage"]["input_tokens"], 120);
  EXPECT_EQ(ev[4].second["content_block"]["name"], "Write");
  json input = json::parse(ev[5].second["delta"]["partial_json"].get<std::string>());
  EXPECT_EQ(input["file_path"], "/work/x/hello.txt");  // made absolute against the stated cwd
  EXPECT_EQ(input["content"], "hi\n");
  EXPECT_EQ(ev[7].first, "message_delta");
  EXPECT_EQ(ev[7].second["delta"]["stop_reason"], "tool_use");
  EXPECT_EQ(ev[7].second["usage"]["output_tokens"], 30);
  EXPECT_EQ(ev[7].second["usage"]["cache_read_input_tokens"], 5);
  EXPECT_EQ(ev[7].second["usage"]["cache_creation_input_tokens"], 7);
  EXPECT_EQ(ev.back().first, "message_stop");
}

TEST_F(StubTest, AnthropicFollowsTheConversationPosition) {
  auto second = Post("/v1/messages", AnthropicBody("TASK-1", 1));
  ASSERT_TRUE(second);
  auto ev = stub::ParseSse(second->body);
  ASSERT_GE(ev.size(), 5u);
  EXPECT_EQ(ev[1].second["content_block"]["name"], "Bash");
  EXPECT_EQ(json::parse(ev[2].second["delta"]["partial_json"].get<std::string>())["command"], "git commit -am 'add hello'");
  // Non-streaming: one JSON message, the final text.
  auto last = Post("/v1/messages", AnthropicBody("TASK-1", 2, /*stream=*/false));
  ASSERT_TRUE(last);
  json m = json::parse(last->body);
  EXPECT_EQ(m["stop_reason"], "end_turn");
  EXPECT_EQ(m["content"][0]["text"], "Done.");
  EXPECT_EQ(m["usage"]["input_tokens"], 300);
}

TEST_F(StubTest, ResponsesFunctionCallAndUsage) {
  auto r = Post("/v1/responses", ResponsesBody("TASK-1", 1));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto ev = stub::ParseSse(r->body);
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.front().first, "response.created");
  EXPECT_EQ(ev.back().first, "response.completed");
  json item;
  for (auto& [e, d] : ev)
    if (e == "response.output_item.done") item = d["item"];
  EXPECT_EQ(item["type"], "function_call");
  EXPECT_EQ(item["name"], "exec_command");
  EXPECT_EQ(json::parse(item["arguments"].get<std::string>())["cmd"], "git commit -am 'add hello'");
  json usage = ev.back().second["response"]["usage"];
  EXPECT_EQ(usage["input_tokens"], 200);
  EXPECT_EQ(usage["output_tokens"], 10);
  EXPECT_EQ(usage["total_tokens"], 210);
  EXPECT_EQ(usage["output_tokens_details"]["reasoning_tokens"], 4);
  EXPECT_EQ(usage["input_tokens_details"]["cached_tokens"], 0);
}

TEST_F(StubTest, ScriptedErrorsGiveWayAfterTheirTimes) {
  auto first = Post("/v1/messages", AnthropicBody("TASK-FLAKY", 0));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 429);
  EXPECT_EQ(first->get_header_value("retry-after-ms"), "10");
  json e = json::parse(first->body);
  EXPECT_EQ(e["type"], "error");
  EXPECT_EQ(e["error"]["type"], "rate_limit_error");
  EXPECT_EQ(e["error"]["message"], "slow down");
  auto second = Post("/v1/responses", ResponsesBody("TASK-FLAKY", 0));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 500);
  EXPECT_EQ(json::parse(second->body)["error"]["type"], "api_error");
  auto third = Post("/v1/messages", AnthropicBody("TASK-FLAKY", 0));
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, 200);
  EXPECT_NE(third->body.find("recovered"), std::string::npos);
}

TEST_F(StubTest, OverloadedForever) {
  for (int i = 0; i < 3; ++i) {
    auto r = Post("/v1/messages", AnthropicBody("TASK-529", 0));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 529);
    EXPECT_EQ(json::parse(r->body)["error"]["type"], "overloaded_error");
  }
}

TEST_F(StubTest, DelayHoldsTheAnswer) {
  auto start = std::chrono::steady_clock::now();
  auto r = Post("/v1/messages", AnthropicBody("TASK-SLOW", 0));
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // A lower bound only: the stub must not answer before the scripted delay.
  EXPECT_GE(waited, std::chrono::milliseconds(300));
}

TEST_F(StubTest, UncoveredRequestsGet400AndTheStubKeepsServing) {
  auto none = Post("/v1/messages", AnthropicBody("an unknown prompt", 0));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 400);
  EXPECT_NE(json::parse(none->body)["error"]["message"].get<std::string>().find("no scenario conversation"),
            std::string::npos);
  auto past_end = Post("/v1/responses", ResponsesBody("TASK-1", 3));
  ASSERT_TRUE(past_end);
  EXPECT_EQ(past_end->status, 400);
  EXPECT_NE(json::parse(past_end->body)["error"]["message"].get<std::string>().find("no turn for answer 4"),
            std::string::npos);
  auto junk = client_->Post("/v1/messages", "{not json", "application/json");
  ASSERT_TRUE(junk);
  EXPECT_EQ(junk->status, 400);
  auto ok = Post("/v1/messages", AnthropicBody("TASK-1", 0));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  auto health = client_->Get("/");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto tokens = Post("/v1/messages/count_tokens", AnthropicBody("x", 0));
  ASSERT_TRUE(tokens);
  EXPECT_TRUE(json::parse(tokens->body)["input_tokens"].is_number());
  // Every model request is in the log, with its conversation and answer.
  std::string log = stub_->log();
  EXPECT_NE(log.find("\"conversation\":\"hello\""), std::string::npos);
  EXPECT_NE(log.find("\"status\":400"), std::string::npos);
  EXPECT_EQ(stub_->Stop(), 0);  // SIGTERM is a clean stop
}

TEST(StubCliTest, BadScenarioFilesFailAtStart) {
  TempDir dir;
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"{oops", "not valid JSON"},
      {"", "not valid JSON"},
      {R"({"conversations": []})", "non-empty list"},
      {R"({"conversations": [{"match": "a", "turns": [{"sing": "x"}]}]})", "unknown turn kind \"sing\""},
      {R"({"conversations": [{"match": "a", "turns": [{"tool": {"name": "Delete"}}]}]})", "unknown tool \"Delete\""},
  };
  for (const auto& c : cases) {
    WriteTextFile(dir / "bad.json", c.text);
    auto r = RunPipeline({"model-stub", "--scenario", dir / "bad.json", "--port", "0"}, "", {}, 10000);
    EXPECT_EQ(r.exit.exit_code, 2) << c.text;
    EXPECT_TRUE(StartsWith(r.err, "pipeline: ")) << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  auto missing = RunPipeline({"model-stub", "--scenario", dir / "nope.json"}, "", {}, 10000);
  EXPECT_EQ(missing.exit.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot read scenario"), std::string::npos) << missing.err;
}

TEST(StubCliTest, RefusesNonLoopbackHostsAndBadPorts) {
  TempDir dir;
  WriteTextFile(dir / "s.json", kScenario);
  auto r = RunPipeline({"model-stub", "--scenario", dir / "s.json", "--host", "0.0.0.0"}, "", {}, 10000);
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("loopback only"), std::string::npos) << r.err;
  auto port = RunPipeline({"model-stub", "--scenario", dir / "s.json", "--port", "70000"}, "", {}, 10000);
  EXPECT_EQ(port.exit.exit_code, 2);
  auto no_scenario = RunPipeline({"model-stub"}, "", {}, 10000);
  EXPECT_EQ(no_scenario.exit.exit_code, 2);
}

}  // namespace
}  // namespace pipeline::testing
