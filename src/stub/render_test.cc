// The request readers and both APIs' renderings of a turn.
#include <gtest/gtest.h>

#include "stub/anthropic_api.h"
#include "stub/request_view.h"
#include "stub/responses_api.h"
#include "stub/sse.h"
#include "util/text.h"

namespace pipeline::stub {
namespace {

using nlohmann::json;


TEST(RequestViewTest, AnthropicCountsAssistantTurnsAndReadsUserTextAndCwd) {
  json body = json::parse(R"({"model": "m1", "stream": true,
    "system": [{"type": "text", "text": "env:\n - Primary working directory: /w/repo\n - Is a git repository: true"}],
    "messages": [
      {"role": "user", "content": [{"type": "text", "text": "<system-reminder>ctx</system-reminder>"},
                                   {"type": "text", "text": "do TASK-7"}]},
      {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "Bash", "input": {}}]},
      {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": "TASK-9 output"}]},
      {"role": "assistant", "content": "ok"},
      {"role": "user", "content": "more"}]})");
  auto v = ReadAnthropicRequest(body);
  ASSERT_TRUE(v.ok()) << v.message();
  EXPECT_EQ(v->model, "m1");
  EXPECT_TRUE(v->stream);
  EXPECT_EQ(v->position, 2);
  EXPECT_NE(v->user_text.find("do TASK-7"), std::string::npos);
  EXPECT_NE(v->user_text.find("more"), std::string::npos);
  EXPECT_EQ(v->user_text.find("TASK-9"), std::string::npos);  // tool output is not the user's words
  EXPECT_EQ(v->cwd, "/w/repo");
  EXPECT_FALSE(ReadAnthropicRequest(json::parse(R"({"model": "m"})")).ok());
}

TEST(RequestViewTest, ResponsesCountsAssistantItems) {
  json body = json::parse(R"({"model": "gpt", "stream": true, "input": [
      {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "rules MARK-DEV"}]},
      {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "<environment_context>\n  <cwd>/w/r</cwd>\n</environment_context>"}]},
      {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "do TASK-3"}]},
      {"type": "function_call", "name": "exec_command", "arguments": "{}", "call_id": "c1"},
      {"type": "function_call_output", "call_id": "c1", "output": "TASK-9"},
      {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hi"}]}]})");
  auto v = ReadResponsesRequest(body);
  ASSERT_TRUE(v.ok()) << v.message();
  EXPECT_EQ(v->position, 2);
  EXPECT_EQ(v->cwd, "/w/r");
  EXPECT_NE(v->user_text.find("do TASK-3"), std::string::npos);
  EXPECT_EQ(v->user_text.find("MARK-DEV"), std::string::npos);
  EXPECT_EQ(v->user_text.find("TASK-9"), std::string::npos);
}

Turn WriteTurn() {
  Turn t;
  t.kind = TurnKind::kWrite;
  t.path = "src/a.txt";
  t.content = "it's \"here\"\n";
  t.text = "writing";
  t.usage = {11, 22, 3, 4, 5};
  return t;
}

TEST(AnthropicApiTest, ToolTurnStreamsInOrderWithUsage) {
  RequestView req;
  req.model = "claude-x";
  req.cwd = "/w";
  auto ev = ParseSse(AnthropicStream(WriteTurn(), req, "id1"));
  std::vector<std::string> names;
  for (auto& [e, d] : ev) {
    names.push_back(e);
    EXPECT_EQ(d["type"], e);  // data.type repeats the event name
  }
  EXPECT_EQ(names, (std::vector<std::string>{"message_start", "content_block_start", "content_block_delta",
                                             "content_block_stop", "content_block_start", "content_block_delta",
                                             "content_block_stop", "message_delta", "message_stop"}));
  EXPECT_EQ(ev[0].second["message"]["model"], "claude-x");
  EXPECT_EQ(ev[0].second["message"]["usage"]["input_tokens"], 11);
  EXPECT_EQ(ev[2].second["delta"]["type"], "text_delta");
  EXPECT_EQ(ev[2].second["delta"]["text"], "writing");
  EXPECT_EQ(ev[4].second["content_block"]["type"], "tool_use");
  EXPECT_EQ(ev[4].second["content_block"]["name"], "Write");
  EXPECT_EQ(ev[4].second["index"], 1);
  EXPECT_EQ(ev[5].second["delta"]["type"], "input_json_delta");
  json input = json::parse(ev[5].second["delta"]["partial_json"].get<std::string>());
  EXPECT_EQ(input["file_path"], "/w/src/a.txt");
  EXPECT_EQ(input["content"], "it's \"here\"\n");
  EXPECT_EQ(ev[7].second["delta"]["stop_reason"], "tool_use");
  EXPECT_EQ(ev[7].second["usage"]["output_tokens"], 22);
  EXPECT_EQ(ev[7].second["usage"]["cache_read_input_tokens"], 3);
  EXPECT_EQ(ev[7].second["usage"]["cache_creation_input_tokens"], 4);
}

TEST(AnthropicApiTest, TextTurnEndsTheTurn) {
  Turn t;
  t.text = "all done";
  json m = AnthropicMessage(t, RequestView{}, "id2");
  EXPECT_EQ(m["stop_reason"], "end_turn");
  ASSERT_EQ(m["content"].size(), 1u);
  EXPECT_EQ(m["content"][0]["text"], "all done");
  Turn edit;
  edit.kind = TurnKind::kEdit;
  edit.path = "/abs/f";
  edit.old_text = "a";
  edit.new_text = "b";
  json e = AnthropicMessage(edit, RequestView{}, "id3");
  EXPECT_EQ(e["content"][0]["name"], "Edit");
  EXPECT_EQ(e["content"][0]["input"]["old_string"], "a");
  EXPECT_EQ(e["content"][0]["input"]["file_path"], "/abs/f");
}

TEST(ResponsesApiTest, ToolTurnIsOneFunctionCallWithUsage) {
  Turn t;
  t.kind = TurnKind::kBash;
  t.command = "git commit -am msg";
  t.usage = {10, 20, 6, 0, 7};
  RequestView req;
  req.model = "gpt-x";
  auto ev = ParseSse(ResponsesStream(t, req, "id4", 1700000000));
  std::vector<std::string> names;
  for (auto& [e, d] : ev) names.push_back(e);
  EXPECT_EQ(names, (std::vector<std::string>{"response.created", "response.output_item.added",
                                             "response.function_call_arguments.delta",
                                             "response.function_call_arguments.done", "response.output_item.done",
                                             "response.completed"}));
  json item = ev[4].second["item"];
  EXPECT_EQ(item["type"], "function_call");
  EXPECT_EQ(item["name"], "exec_command");
  EXPECT_EQ(json::parse(item["arguments"].get<std::string>())["cmd"], "git commit -am msg");
  EXPECT_FALSE(item["call_id"].get<std::string>().empty());
  json usage = ev[5].second["response"]["usage"];
  EXPECT_EQ(usage["input_tokens"], 10);
  EXPECT_EQ(usage["output_tokens"], 20);
  EXPECT_EQ(usage["total_tokens"], 30);
  EXPECT_EQ(usage["input_tokens_details"]["cached_tokens"], 6);
  EXPECT_EQ(usage["output_tokens_details"]["reasoning_tokens"], 7);
  EXPECT_EQ(ev[5].second["response"]["model"], "gpt-x");
}

TEST(ResponsesApiTest, TextTurnStreamsDeltas) {
  Turn t;
  t.text = "finished";
  auto ev = ParseSse(ResponsesStream(t, RequestView{}, "id5", 1));
  bool saw_delta = false;
  for (auto& [e, d] : ev) {
    if (e == "response.output_text.delta") {
      saw_delta = true;
      EXPECT_EQ(d["delta"], "finished");
    }
  }
  EXPECT_TRUE(saw_delta);
  EXPECT_EQ(ev.back().second["response"]["output"][0]["content"][0]["text"], "finished");
}

TEST(ResponsesApiTest, ShellCommandsQuoteContent) {
  EXPECT_EQ(ShellWriteCommand("a b.txt", "it's\n"), "printf '%s' 'it'\\''s\n' > 'a b.txt'");
  EXPECT_EQ(ApplyPatchCommand("f.txt", "old\n", "new1\nnew2\n"),
            "apply_patch <<'EOF'\n*** Begin Patch\n*** Update File: f.txt\n@@\n-old\n+new1\n+new2\n*** End Patch\nEOF\n");
}

}  // namespace
}  // namespace pipeline::stub
