// `pipeline serve` from the outside: the built program on an ephemeral
// loopback port against a scratch store, every endpoint, the auth refusals,
// bad input (one-line JSON errors, nothing changed), live events for a change
// made with the CLI, and notifications.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "agent/run_store.h"
#include "sched/sched_sql.h"
#include "serve_fixture.h"
#include "store/db.h"
#include "tasks/task_store.h"
#include "util/clock.h"

namespace pipeline {
namespace {

using nlohmann::json;
using testing::FileText;
using testing::ParseJson;
using testing::RunPipeline;
using testing::ServeProcess;
using testing::TempDir;
using testing::WriteHeaders;

class ServeApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::InitGitRepo(dir_.path());
    auto r = RunPipeline({"init"}, dir_.path());
    ASSERT_TRUE(r.ok()) << r.err;
    root_ = dir_ / ".pipeline";
    ASSERT_TRUE(Cli({"task", "create", "First task", "--namespace", "web", "--description", "Do it"}).ok());
  }

  CommandResult Cli(std::vector<std::string> args) { return RunPipeline(args, dir_.path(), {{"PIPELINE_ROOT", root_}}); }

  std::string Export() {
    auto r = Cli({"task", "export"});
    EXPECT_TRUE(r.ok()) << r.err;
    return r.out;
  }

  json CliTask(const std::string& id) {
    auto r = Cli({"task", "show", id, "--json"});
    EXPECT_TRUE(r.ok()) << r.err;
    return ParseJson(r.out);
  }

  // Opens the store as another process would (for what no CLI command does:
  // recording a run, a scheduler event).
  std::unique_ptr<Db> OpenDb() {
    auto db = Db::Open(root_ + "/pipeline.db", false);
    EXPECT_TRUE(db.ok());
    return db.ok() ? std::move(db).value() : nullptr;
  }

  void StartServer(const std::string& host = "127.0.0.1") {
    std::string why = server_.Start(dir_.path(), host);
    ASSERT_EQ(why, "");
  }

  // Expects a one-line JSON error with this status.
  void ExpectError(const httplib::Result& r, int status) {
    ASSERT_TRUE(r) << "no response";
    EXPECT_EQ(r->status, status) << r->body;
    json j = ParseJson(r->body);
    ASSERT_TRUE(j.is_object()) << r->body;
    EXPECT_TRUE(j.contains("error")) << r->body;
    EXPECT_EQ(j.size(), 1u) << r->body;
    std::string body = Trim(r->body);
    EXPECT_EQ(body.find('\n'), std::string::npos) << r->body;
  }

  TempDir dir_;
  std::string root_;
  ServeProcess server_;
};

TEST_F(ServeApiTest, ReadEndpointsShowTheStore) {
  StartServer();
  auto c = server_.Client();

  auto status = c.Get("/api/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 200);
  EXPECT_EQ(ParseJson(status->body)["counts"]["open"], 1) << status->body;

  auto tasks = c.Get("/api/tasks");
  ASSERT_TRUE(tasks);
  json list = ParseJson(tasks->body);
  ASSERT_EQ(list.size(), 1u) << tasks->body;
  EXPECT_EQ(list[0]["id"], "t-1");
  EXPECT_EQ(list[0]["title"], "First task");
  EXPECT_EQ(list[0]["status"], "open");
  auto open_only = c.Get("/api/tasks?status=done");
  ASSERT_TRUE(open_only);
  EXPECT_EQ(ParseJson(open_only->body).size(), 0u);
  // The list follows a commit made elsewhere (it is cached between commits),
  // and ?ids= gives only the tasks named.
  ASSERT_TRUE(Cli({"task", "create", "Second task"}).ok());
  json two = ParseJson(c.Get("/api/tasks")->body);
  ASSERT_EQ(two.size(), 2u) << two.dump();
  EXPECT_EQ(two[1]["title"], "Second task");
  json named = ParseJson(c.Get("/api/tasks?ids=t-2,t-99")->body);
  ASSERT_EQ(named.size(), 1u) << named.dump();
  EXPECT_EQ(named[0]["id"], "t-2");
  ExpectError(c.Get("/api/tasks?ids=t-1,..%2Fx"), 400);
  ASSERT_TRUE(Cli({"task", "update", "t-2", "done"}).ok());
  EXPECT_EQ(ParseJson(c.Get("/api/tasks?ids=t-2")->body)[0]["status"], "done");
  EXPECT_EQ(ParseJson(c.Get("/api/tasks?status=done")->body).size(), 1u);

  ASSERT_TRUE(Cli({"task", "comment", "t-1", "a note", "--author", "agent:dev"}).ok());
  auto detail = c.Get("/api/tasks/t-1");
  ASSERT_TRUE(detail);
  ASSERT_EQ(detail->status, 200) << detail->body;
  json d = ParseJson(detail->body);
  EXPECT_EQ(d["task"]["taskId"], "t-1");
  EXPECT_EQ(d["status"], "open");
  ASSERT_EQ(d["timeline"].size(), 1u);
  EXPECT_EQ(d["timeline"][0]["text"], "a note");
  EXPECT_TRUE(d["runs"].empty());
  // No branch yet: the diff says why instead of failing the page.
  EXPECT_EQ(d["diff"]["branch"], "pipeline/t-1");
  EXPECT_TRUE(d["diff"].contains("error")) << d["diff"].dump();

  auto budgets = c.Get("/api/budgets");
  ASSERT_TRUE(budgets);
  EXPECT_TRUE(ParseJson(budgets->body).is_array());

  auto queue = c.Get("/api/queue");
  ASSERT_TRUE(queue);
  json q = ParseJson(queue->body);
  ASSERT_EQ(q["dev"].size(), 1u) << queue->body;
  EXPECT_EQ(q["dev"][0]["id"], "t-1");
  EXPECT_TRUE(q["merge"].empty());

  auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("pipeline_tasks{state=\"open\"} 1\n"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("pipeline_queue_length{queue=\"dev\"} 1\n"), std::string::npos);
  EXPECT_NE(metrics->body.find("pipeline_check_duration_seconds_bucket{phase=\"verify\",le=\"+Inf\"} 0"),
            std::string::npos);

  auto index = c.Get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_NE(index->body.find("app.js"), std::string::npos);
}

TEST_F(ServeApiTest, TaskDiffIsTheBranchAgainstTheBase) {
  // A task branch with one commit, as a dev run leaves it.
  ASSERT_TRUE(testing::RunArgv({"git", "checkout", "-q", "-b", "pipeline/t-1"}, dir_.path()).ok());
  testing::WriteTextFile(dir_ / "hello.txt", "line one\nline two\n");
  ASSERT_TRUE(testing::RunArgv({"git", "add", "hello.txt"}, dir_.path()).ok());
  ASSERT_TRUE(testing::RunArgv({"git", "commit", "-q", "-m", "hello"}, dir_.path()).ok());
  ASSERT_TRUE(testing::RunArgv({"git", "checkout", "-q", "main"}, dir_.path()).ok());
  StartServer();
  auto r = server_.Client().Get("/api/tasks/t-1");
  ASSERT_TRUE(r);
  json d = ParseJson(r->body);
  EXPECT_EQ(d["diff"]["base"], "main");
  ASSERT_TRUE(d["diff"].contains("text")) << d["diff"].dump();
  EXPECT_NE(d["diff"]["text"].get<std::string>().find("+line two"), std::string::npos);
  EXPECT_EQ(d["diff"]["truncated"], false);
}

TEST_F(ServeApiTest, RunAndItsLogFromAnOffset) {
  {
    auto db = OpenDb();
    RunSpec spec;
    spec.run_id = "run-1";
    spec.task_id = "t-1";
    spec.domain = "web";
    spec.argv = {"true"};
    spec.workspace = dir_.path();
    ASSERT_TRUE(InsertRun(*db, spec, SystemClock()).ok());
  }
  ASSERT_TRUE(MakeDirs(root_ + "/runs/run-1").ok());
  testing::WriteTextFile(root_ + "/runs/run-1/stdout.log", "hello\nworld\n");
  StartServer();
  auto c = server_.Client();
  auto run = c.Get("/api/runs/run-1");
  ASSERT_TRUE(run);
  ASSERT_EQ(run->status, 200) << run->body;
  EXPECT_EQ(ParseJson(run->body)["task_id"], "t-1");
  EXPECT_EQ(ParseJson(run->body)["active"], true);

  auto log = c.Get("/api/runs/run-1/log?offset=6");
  ASSERT_TRUE(log);
  json l = ParseJson(log->body);
  EXPECT_EQ(l["text"], "world\n");
  EXPECT_EQ(l["next_offset"], 12);
  EXPECT_EQ(l["size"], 12);
  auto past_end = c.Get("/api/runs/run-1/log?offset=100");
  ASSERT_TRUE(past_end);
  EXPECT_EQ(ParseJson(past_end->body)["reset"], true);

  ExpectError(c.Get("/api/runs/run-1/log?offset=abc"), 400);
  ExpectError(c.Get("/api/runs/run-1/log?offset=-1"), 400);
  ExpectError(c.Get("/api/runs/run-1/log?stream=other"), 400);
  ExpectError(c.Get("/api/runs/nope/log"), 404);
  ExpectError(c.Get("/api/runs/..%2F..%2Fetc"), 404);  // no route: ids never hold a slash
  ExpectError(c.Get("/api/runs/-x"), 400);
}

TEST_F(ServeApiTest, WritesGoThroughTheCliPaths) {
  StartServer();
  auto c = server_.Client();
  auto created = c.Post("/api/tasks", WriteHeaders(), R"({"title": "From the web", "namespace": "web", "priority": "P1"})",
                        "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  EXPECT_EQ(ParseJson(created->body)["taskId"], "t-2");
  EXPECT_EQ(CliTask("t-2")["taskPriority"], "P1") << CliTask("t-2").dump();

  auto comment = c.Post("/api/tasks/t-1/comment", WriteHeaders(), R"({"text": "Use the blue one"})", "application/json");
  ASSERT_TRUE(comment);
  ASSERT_EQ(comment->status, 200) << comment->body;
  json shown = CliTask("t-1");
  ASSERT_EQ(shown["taskComments"].size(), 1u) << shown.dump();
  EXPECT_EQ(shown["taskComments"][0]["commentText"], "Use the blue one");
  EXPECT_EQ(shown["taskComments"][0]["commentAuthor"], "human");

  // Review: approve, and reject with line comments folded into the feedback.
  ASSERT_TRUE(Cli({"task", "update", "t-1", "review"}).ok());
  auto reject = c.Post("/api/tasks/t-1/reject", WriteHeaders(),
                       R"({"why": "Not yet", "line_comments": [{"file": "src/a.cc", "line": 3, "text": "rename this"},
                          {"file": "src/b.cc", "line": 10, "text": "drop the copy"}]})",
                       "application/json");
  ASSERT_TRUE(reject);
  ASSERT_EQ(reject->status, 200) << reject->body;
  auto detail = ParseJson(c.Get("/api/tasks/t-1")->body);
  EXPECT_EQ(detail["status"], "open");
  EXPECT_EQ(detail["patchset"], 1);
  std::string feedback = detail["feedback"].get<std::string>();
  EXPECT_NE(feedback.find("Not yet"), std::string::npos) << feedback;
  EXPECT_NE(feedback.find("- src/a.cc:3: rename this"), std::string::npos) << feedback;
  EXPECT_NE(feedback.find("- src/b.cc:10: drop the copy"), std::string::npos) << feedback;

  ASSERT_TRUE(Cli({"task", "update", "t-1", "review"}).ok());
  auto approve = c.Post("/api/tasks/t-1/approve", WriteHeaders(), "{}", "application/json");
  ASSERT_TRUE(approve);
  ASSERT_EQ(approve->status, 200) << approve->body;
  EXPECT_EQ(CliTask("t-1")["taskStatus"], "verified") << CliTask("t-1").dump();

  // Retry a needs-help task; cancel an open one.
  ASSERT_TRUE(Cli({"task", "update", "t-1", "needs-help"}).ok());
  auto retry = c.Post("/api/tasks/t-1/retry", WriteHeaders(), "", "application/json");
  ASSERT_TRUE(retry);
  ASSERT_EQ(retry->status, 200) << retry->body;
  EXPECT_EQ(ParseJson(retry->body)["status"], "open");
  auto cancel = c.Post("/api/tasks/t-2/cancel", WriteHeaders(), "", "application/json");
  ASSERT_TRUE(cancel);
  ASSERT_EQ(cancel->status, 200) << cancel->body;
  EXPECT_EQ(ParseJson(cancel->body)["status"], "needs-help");

  // Budgets: grant, pause, resume.
  auto grant = c.Post("/api/budgets/web/grant", WriteHeaders(), R"({"cents": 500})", "application/json");
  ASSERT_TRUE(grant);
  ASSERT_EQ(grant->status, 200) << grant->body;
  auto fund = Cli({"fund", "check", "--domain", "web", "--json"});
  ASSERT_TRUE(fund.ok()) << fund.err;
  EXPECT_NE(fund.out.find("500"), std::string::npos) << fund.out;
  auto pause = c.Post("/api/domains/web/pause", WriteHeaders(), "", "application/json");
  ASSERT_TRUE(pause);
  ASSERT_EQ(pause->status, 200) << pause->body;
  json budgets = ParseJson(c.Get("/api/budgets")->body);
  ASSERT_EQ(budgets.size(), 1u) << budgets.dump();
  EXPECT_EQ(budgets[0]["paused"], true);
  EXPECT_EQ(budgets[0]["budget_cents"], 500);
  ASSERT_EQ(c.Post("/api/domains/web/resume", WriteHeaders(), "", "application/json")->status, 200);
  EXPECT_EQ(ParseJson(c.Get("/api/budgets")->body)[0]["paused"], false);
}

TEST_F(ServeApiTest, BadInputIsAOneLineErrorAndChangesNothing) {
  StartServer();
  auto c = server_.Client();
  const std::string before = Export();
  auto h = WriteHeaders();
  ExpectError(c.Post("/api/tasks", h, "{not json", "application/json"), 400);
  ExpectError(c.Post("/api/tasks", h, R"({"title": ""})", "application/json"), 400);
  ExpectError(c.Post("/api/tasks", h, R"({"title": "x", "priority": "P9"})", "application/json"), 400);
  ExpectError(c.Post("/api/tasks", h, R"({"title": "x", "colour": "red"})", "application/json"), 400);
  ExpectError(c.Post("/api/tasks", h, R"({"title": "x\ny"})", "application/json"), 400);
  ExpectError(c.Post("/api/tasks", h, R"(["title"])", "application/json"), 400);
  ExpectError(c.Post("/api/tasks/t-1/comment", h, R"({"text": 5})", "application/json"), 400);
  ExpectError(c.Post("/api/tasks/t-1/comment", h, R"({})", "application/json"), 400);
  ExpectError(c.Post("/api/tasks/bad..id/comment", h, R"({"text": "x"})", "application/json"), 400);
  ExpectError(c.Post("/api/tasks/t-99/comment", h, R"({"text": "x"})", "application/json"), 404);
  ExpectError(c.Get("/api/tasks/bad..id"), 400);
  ExpectError(c.Get("/api/tasks/t-99"), 404);
  ExpectError(c.Get("/api/tasks?status=sideways"), 400);
  // Not in review: the review gate refuses, as the CLI does.
  ExpectError(c.Post("/api/tasks/t-1/approve", h, "{}", "application/json"), 409);
  ExpectError(c.Post("/api/tasks/t-1/reject", h, R"({"why": "no"})", "application/json"), 409);
  ExpectError(c.Post("/api/tasks/t-1/reject", h, R"({"line_comments": [{"file": "a", "line": -1, "text": "x"}]})",
                     "application/json"),
              400);
  ExpectError(c.Post("/api/tasks/t-1/cancel", h, R"({"x": 1})", "application/json"), 400);
  ExpectError(c.Post("/api/budgets/web/grant", h, R"({"cents": -5})", "application/json"), 400);
  ExpectError(c.Post("/api/budgets/web/grant", h, R"({"cents": "5"})", "application/json"), 400);
  ExpectError(c.Get("/api/queue?limit=0"), 400);
  ExpectError(c.Get("/api/nothing-here"), 404);
  EXPECT_EQ(Export(), before);
  auto budgets = c.Get("/api/budgets");
  ASSERT_TRUE(budgets);
  EXPECT_TRUE(ParseJson(budgets->body).empty()) << budgets->body;
}

TEST_F(ServeApiTest, LoopbackWritesNeedTheCustomHeaderOrTheToken) {
  StartServer();
  auto c = server_.Client();
  const std::string before = Export();
  // A cross-site form post carries neither the header nor the token.
  ExpectError(c.Post("/api/tasks", R"({"title": "csrf"})", "application/json"), 403);
  ExpectError(c.Post("/api/tasks/t-1/comment", R"({"text": "csrf"})", "text/plain"), 403);
  // DNS rebinding: a page on another name that resolves here.
  ExpectError(c.Get("/api/status", {{"Host", "evil.example:80"}}), 403);
  EXPECT_EQ(Export(), before);
  auto token = ReadFile(root_ + "/serve-token");
  ASSERT_TRUE(token.ok());
  auto ok = c.Post("/api/tasks", {{"Authorization", "Bearer " + Trim(*token)}}, R"({"title": "with token"})",
                   "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << ok->body;
}

TEST_F(ServeApiTest, BeyondLoopbackEveryRequestNeedsTheToken) {
  StartServer("0.0.0.0");
  struct stat st {};
  ASSERT_EQ(stat((root_ + "/serve-token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string token = Trim(FileText(root_ + "/serve-token"));
  ASSERT_GE(token.size(), 32u);
  auto c = server_.Client();
  const std::string before = Export();
  ExpectError(c.Get("/api/tasks"), 401);
  ExpectError(c.Get("/metrics"), 401);
  ExpectError(c.Post("/api/tasks", WriteHeaders(), R"({"title": "no token"})", "application/json"), 401);
  ExpectError(c.Post("/api/tasks", {{"Authorization", "Bearer wrong"}}, R"({"title": "bad token"})",
                     "application/json"),
              401);
  // The query form is for reads (EventSource) only.
  ExpectError(c.Post("/api/tasks?token=" + token, WriteHeaders(), R"({"title": "query"})", "application/json"), 401);
  EXPECT_EQ(Export(), before);
  auto read = c.Get("/api/tasks?token=" + token);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200);
  auto write = c.Post("/api/tasks", {{"Authorization", "Bearer " + token}}, R"({"title": "ok"})", "application/json");
  ASSERT_TRUE(write);
  EXPECT_EQ(write->status, 201) << write->body;
}

// Collects the events of /api/events on a thread.
class EventReader {
 public:
  explicit EventReader(int port) : client_("127.0.0.1", port) {
    client_.set_read_timeout(60, 0);
    thread_ = std::thread([this] {
      client_.Get("/api/events", [this](const char* data, size_t n) {
        std::lock_guard<std::mutex> lock(mu_);
        text_.append(data, n);
        cv_.notify_all();
        return !stop_;
      });
    });
  }
  ~EventReader() {
    stop_ = true;
    client_.stop();
    thread_.join();
  }
  // Waits (up to 20 s) until the stream holds `needle`.
  bool WaitFor(const std::string& needle) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return text_.find(needle) != std::string::npos; });
  }
  std::string text() {
    std::lock_guard<std::mutex> lock(mu_);
    return text_;
  }

 private:
  httplib::Client client_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string text_;
  std::atomic<bool> stop_{false};
};

TEST_F(ServeApiTest, EventsReportAChangeMadeWithTheCli) {
  ASSERT_TRUE(MakeDirs(root_ + "/runs").ok());
  StartServer();
  EventReader events(server_.port());
  ASSERT_TRUE(events.WaitFor("event: hello")) << events.text();
  ASSERT_TRUE(Cli({"task", "comment", "t-1", "from the terminal"}).ok());
  ASSERT_TRUE(events.WaitFor("\"t-1\"")) << events.text();
  EXPECT_NE(events.text().find("event: change"), std::string::npos);
  EXPECT_NE(events.text().find("\"store\":true"), std::string::npos) << events.text();

  // A run's log growing is an event too (the run page reads the new bytes).
  ASSERT_TRUE(MakeDirs(root_ + "/runs/run-9").ok());
  testing::WriteTextFile(root_ + "/runs/run-9/stdout.log", "more\n");
  ASSERT_TRUE(events.WaitFor("\"logs\":[\"run-9\"]")) << events.text();
}

TEST_F(ServeApiTest, NotifiesOncePerTransitionAndNotAgainAfterARestart) {
  const std::string out = dir_ / "notified.jsonl";
  testing::WriteTextFile(root_ + "/config.toml", "[notify]\ncommand = [\"tee\", \"-a\", \"" + out + "\"]\n");
  ASSERT_TRUE(Cli({"task", "create", "Second", "--namespace", "web"}).ok());
  // What the scheduler does when a run ends in a question: the move and its
  // event in one transaction.
  auto to_needs_help = [&](const std::string& id) {
    auto db = OpenDb();
    ASSERT_TRUE(db->Write([&]() -> Status {
                    PL_RETURN_IF_ERROR(TaskStore(*db, SystemClock()).SetStatus(id, TaskStatus::kNeedsHelp));
                    PL_RETURN_IF_ERROR(
                        TaskStore(*db, SystemClock()).AddComment(id, "Which colour?", "agent:dev").status());
                    return AddEvent(*db, SystemClock().Now(), id, std::nullopt, "failure",
                                    "needs-help: the agent asked a question");
                  }).ok());
  };
  auto lines = [&] {
    std::vector<json> v;
    for (const auto& l : Split(FileText(out), '\n'))
      if (!Trim(l).empty()) v.push_back(ParseJson(l));
    return v;
  };
  auto wait_lines = [&](size_t n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (lines().size() < n && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return lines().size();
  };

  // The first start sets the mark at the newest event (no history is sent).
  StartServer();
  server_.Stop();
  // A transition while no server runs is sent by the next one: the mark
  // persisted.
  to_needs_help("t-1");
  StartServer();
  ASSERT_EQ(wait_lines(1), 1u) << server_.log();
  // Later commits (a comment) and a restart do not send it again.
  ASSERT_TRUE(Cli({"task", "comment", "t-2", "unrelated"}).ok());
  server_.Stop();
  StartServer();
  to_needs_help("t-2");
  ASSERT_EQ(wait_lines(2), 2u) << server_.log();
  auto v = lines();
  EXPECT_EQ(v[0]["task_id"], "t-1");
  EXPECT_EQ(v[0]["event"], "needs-help");
  EXPECT_EQ(v[0]["question"], "Which colour?");
  EXPECT_NE(v[0]["link"].get<std::string>().find("#/task/t-1"), std::string::npos);
  EXPECT_EQ(v[1]["task_id"], "t-2");
}

}  // namespace
}  // namespace pipeline
