// The dashboard in a real browser: Debian's Chromium driven by puppeteer-core
// (tests/browser/dashboard.js) against `pipeline serve` on a store that the
// real scheduler (`pipeline run`) works with scripted agents. Each test saves
// a screenshot under the build folder (serve-screenshots/).
//
// The driver is installed by scripts/install-browser-driver.sh once per test
// binary; when that fails (no npm, registry unreachable) or Chromium is
// missing, the tests fail with the reason rather than skip.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <iostream>
#include <map>
#include <thread>

#include "sched/merge_queue.h"
#include "sched/sched_sql.h"
#include "sched_fixture.h"
#include "serve_fixture.h"

namespace pipeline::testing {
namespace {

using nlohmann::json;

std::string ChromiumPath() {
  const char* env = getenv("PIPELINE_CHROMIUM");
  return env && *env ? env : "/usr/bin/chromium";
}

// Installs the driver when missing; returns the failure reason or "".
const std::string& EnsureBrowserDriver() {
  static const std::string reason = [] {
    if (!PathExists(ChromiumPath()))
      return "no Chromium at " + ChromiumPath() + " (apt-get install chromium, or run scripts/setup.sh)";
    // Always through the script: it holds a lock while it checks and installs,
    // so a test process never sees another's half-finished install.
    auto r = RunArgv({SourceDir() + "/scripts/install-browser-driver.sh"}, SourceDir(), {}, 600000);
    if (r.ok()) return std::string();
    return "scripts/install-browser-driver.sh failed (exit " + std::to_string(r.exit.exit_code) + "): " + Trim(r.err);
  }();
  return reason;
}

std::string ScreenshotPath(const std::string& name) {
  std::string dir = std::string(PIPELINE_BUILD_DIR) + "/serve-screenshots";
  EXPECT_TRUE(MakeDirs(dir).ok());
  return dir + "/" + name + ".png";
}

// Runs a scenario of dashboard.js; returns its JSON result (fails the test
// with the driver's output otherwise).
json Drive(const std::string& scenario, const std::string& url, const std::string& screenshot,
           std::vector<std::string> args = {}) {
  std::vector<std::string> argv = {"node", SourceDir() + "/tests/browser/dashboard.js", scenario, url, screenshot};
  for (auto& a : args) argv.push_back(a);
  auto r = RunArgv(argv, SourceDir(), {{"PIPELINE_CHROMIUM", ChromiumPath()}}, 180000);
  EXPECT_TRUE(r.ok()) << scenario << ": exit " << r.exit.exit_code << "\n" << r.err << r.out;
  EXPECT_TRUE(PathExists(screenshot)) << screenshot;
  json j = json::parse(Trim(r.out), nullptr, false);
  return j.is_discarded() ? json() : j;
}

std::string Config(const std::string& agent_argv_toml) {
  return "[fund]\ndefault_budget_cents = 100000\n"
         "[scheduler]\nbackoff_base_s = 0\nreserve_cents = 10\n"
         "[verify]\ncommand = [\"true\"]\n[review]\nrequired = true\n"
         "[agent]\nprofile = \"t\"\n" +
         agent_argv_toml;
}

std::string BrowserAgent(const std::string& name) { return SourceDir() + "/tests/browser/" + name; }

class ServeBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string& why = EnsureBrowserDriver();
    ASSERT_EQ(why, "") << "the browser tests need Chromium and puppeteer-core: " << why;
  }
};

TEST_F(ServeBrowserTest, AnswerFromThePageAndLineCommentReachTheNextPrompts) {
  SchedRepo repo(Config(ProfileToml("t", {"sh", BrowserAgent("ask_or_commit.sh"), "{prompt_file}"})));
  std::string id = repo.Task("Add a button", std::string("web"));
  auto r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  ASSERT_EQ(repo.Status(id), "needs-help") << r.err;

  ServeProcess serve;
  ASSERT_EQ(serve.Start(repo.dir()), "");
  const std::string url = serve.url() + "/";

  // The board shows the task first, with its question.
  Drive("board", url, ScreenshotPath("board"), {id, "Which colour should the button be?"});

  // Answering from the task page reopens it: the next run's prompt carries
  // the answer (and that run commits, so the task waits in review).
  const std::string answer = "Blue, like the logo";
  Drive("answer", url, ScreenshotPath("task-answer"), {id, answer});
  r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  ASSERT_EQ(repo.Status(id), "review") << r.err;
  std::string prompt = ReadTextFile(
      repo.Text("SELECT prompt_path FROM runs WHERE phase = 'dev' ORDER BY created_at DESC, rowid DESC LIMIT 1"));
  EXPECT_NE(prompt.find("- [human] " + answer), std::string::npos) << prompt;

  // A comment on a line of the diff, sent with "request changes", is the
  // feedback of the next attempt.
  const std::string line_comment = "Say which button this is";
  json where = Drive("linecomment", url, ScreenshotPath("task-line-comment"),
                     {id, "+work for " + id, line_comment, "Almost there"});
  ASSERT_TRUE(where.is_object());
  EXPECT_EQ(where["file"], "work-" + id + ".txt");
  ASSERT_EQ(repo.Status(id), "open");
  std::string expected = "- work-" + id + ".txt:1: " + line_comment;
  EXPECT_NE(repo.Text("SELECT feedback FROM tasks WHERE id = '" + id + "'").find(expected), std::string::npos);
  r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  prompt = ReadTextFile(
      repo.Text("SELECT prompt_path FROM runs WHERE phase = 'dev' ORDER BY created_at DESC, rowid DESC LIMIT 1"));
  EXPECT_NE(prompt.find("The previous patchset was rejected"), std::string::npos) << prompt;
  EXPECT_NE(prompt.find(expected), std::string::npos) << prompt;
  EXPECT_NE(prompt.find("Almost there"), std::string::npos) << prompt;
}

TEST_F(ServeBrowserTest, RunLogGrowsOnThePageWithoutAReload) {
  SchedRepo repo("");
  const std::string gate = repo.dir() + "/gate";
  WriteTextFile(repo.paths().config(), Config(ProfileToml("t", {"sh", BrowserAgent("gate_agent.sh"), gate})));
  std::string id = repo.Task("Log slowly", std::string("web"));

  ServeProcess serve;
  ASSERT_EQ(serve.Start(repo.dir()), "");
  // The scheduler runs in the background; the agent waits at the gate.
  SpawnOptions o;
  o.argv = {PipelineBin(), "run", "--until-idle"};
  o.cwd = repo.dir();
  auto sched = Spawn(o);
  ASSERT_TRUE(sched.ok()) << sched.message();
  std::string run_id;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (run_id.empty() && std::chrono::steady_clock::now() < deadline) {
    run_id = repo.Text("SELECT run_id FROM runs WHERE status = 'running' AND task_id = '" + id + "'");
    if (run_id.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(run_id, "") << "no running run";

  Drive("runlog", serve.url() + "/", ScreenshotPath("run-log"), {run_id, gate});
  WriteTextFile(gate, "go\n");  // whatever happened, let the agent finish
  int status = 0;
  waitpid(sched->pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(ServeBrowserTest, WriteWithoutTheTokenIsRefusedBeyondLoopback) {
  SchedRepo repo("");
  repo.Task("Existing", std::string("web"));
  ServeProcess serve;
  ASSERT_EQ(serve.Start(repo.dir(), "0.0.0.0"), "");
  json result = Drive("notoken", serve.url() + "/", ScreenshotPath("no-token"));
  EXPECT_EQ(result["status"], 401);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM tasks"), 1);
}

// Median and p99 of a list of milliseconds (printed, never asserted: the
// timing targets are bench_serve's).
std::string LatencySummary(std::vector<int64_t> ms) {
  if (ms.empty()) return "no samples";
  std::sort(ms.begin(), ms.end());
  auto q = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<size_t>(p * static_cast<double>(ms.size())))]; };
  return "median " + std::to_string(q(0.5)) + " ms, p99 " + std::to_string(q(0.99)) + " ms over " +
         std::to_string(ms.size());
}

TEST_F(ServeBrowserTest, BoardFollowsChangesInPlace) {
  SchedRepo repo("");
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) ids.push_back(repo.Task("Backlog task " + std::to_string(i), std::string("web")));
  ServeProcess serve;
  ASSERT_EQ(serve.Start(repo.dir()), "");
  const int rounds = 12;  // three times: a new task, a question, review, done
  const std::string changed = ids[3] + "," + ids[17] + "," + ids[30];
  json r = Drive("live", serve.url() + "/", ScreenshotPath("board-live"),
                 {PipelineBin(), repo.dir(), std::to_string(rounds), changed});
  ASSERT_TRUE(r.is_object()) << r.dump();
  ASSERT_EQ(r["latencies_ms"].size(), static_cast<size_t>(rounds));
  EXPECT_EQ(r["reloaded"], false);
  for (const std::string& id : {ids[3], ids[17], ids[30]}) EXPECT_EQ(repo.Status(id), "done") << id;
  // What the columns count is what the store holds.
  for (const char* state : {"open", "in-progress", "needs-help", "review", "verified", "done"})
    EXPECT_EQ(r["counts"][state].get<int64_t>(),
              repo.Int(std::string("SELECT COUNT(*) FROM tasks WHERE status = '") + state + "'"))
        << state;
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM tasks"), 43);
  std::cout << "[ timing   ] change (CLI commit) to the open board: "
            << LatencySummary(r["latencies_ms"].get<std::vector<int64_t>>()) << "\n";
}

// "$1,234.56" -> 123456.
int64_t CentsOf(const json& text) {
  std::string digits;
  for (char c : text.get<std::string>())
    if (isdigit(static_cast<unsigned char>(c))) digits += c;
  return ParseInt64(digits).value_or(-1);
}

TEST_F(ServeBrowserTest, BudgetBarsShowTheLedgerAfterAGrantAndARun) {
  SchedRepo repo(Config(ProfileToml("t", {"sh", BrowserAgent("ask_or_commit.sh"), "{prompt_file}"})));
  repo.Task("Spend a little", std::string("web"));
  ASSERT_EQ(RunPipeline({"fund", "set", "--domain", "web", "--cents", "1000"}, repo.dir()).exit.exit_code, 0);
  auto r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  // A hold that stays: budget 1000, held 40, spent 3 (the agent's cost), remaining 957.
  ASSERT_EQ(RunPipeline({"fund", "reserve", "--domain", "web", "--run-id", "held-by-hand", "--cents", "40"}, repo.dir())
                .exit.exit_code,
            0);
  ServeProcess serve;
  ASSERT_EQ(serve.Start(repo.dir()), "");
  json page = Drive("budgets", serve.url() + "/", ScreenshotPath("budgets"), {"web", "250"});
  ASSERT_TRUE(page.is_object()) << page.dump();
  json report = ParseJson(RunPipeline({"fund", "report", "--json"}, repo.dir()).out);
  ASSERT_TRUE(report.is_array() && report.size() == 1) << report.dump();
  const json& b = page["before"];
  EXPECT_EQ(CentsOf(b["spent"]), 3);
  EXPECT_EQ(CentsOf(b["held"]), 40);
  EXPECT_EQ(CentsOf(b["budget"]), 1000);
  EXPECT_EQ(CentsOf(b["remaining"]), 957);
  EXPECT_NEAR(b["spent_pct"].get<double>(), 100.0 * 3 / 1000, 0.01);
  EXPECT_NEAR(b["held_pct"].get<double>(), 100.0 * 40 / 1000, 0.01);
  // After the grant from the page, the page and the ledger agree.
  const json& a = page["after"];
  EXPECT_EQ(CentsOf(a["budget"]), 1250);
  EXPECT_EQ(CentsOf(a["remaining"]), 1207);
  for (const char* f : {"budget", "held", "spent", "remaining"})
    EXPECT_EQ(CentsOf(a[f]), report[0][std::string(f) + "_cents"].get<int64_t>()) << f;
  EXPECT_NEAR(a["spent_pct"].get<double>(), 100.0 * 3 / 1250, 0.01);
}

TEST_F(ServeBrowserTest, QueuePageListsTasksInOrderWithWhyTheyWait) {
  SchedRepo repo("");
  std::string old_p2 = repo.Task("Older, P2", std::string("web"));
  std::string urgent = repo.Task("Urgent", std::string("web"));
  std::string newer_p2 = repo.Task("Newer, P2", std::string("web"));
  std::string blocked = repo.Task("Blocked", std::string("web"), {old_p2});
  std::string verified = repo.Task("Verified", std::string("web"));
  ASSERT_TRUE(repo.Open()->Exec("UPDATE tasks SET priority = 0 WHERE id = '" + urgent + "'").ok());
  ASSERT_EQ(RunPipeline({"task", "update", verified, "verified"}, repo.dir()).exit.exit_code, 0);
  ServeProcess serve;
  ASSERT_EQ(serve.Start(repo.dir()), "");
  json page = Drive("queue", serve.url() + "/", ScreenshotPath("queue"));
  ASSERT_TRUE(page.is_object()) << page.dump();
  // The scheduler's order: priority, then age; the blocked task is not ready.
  ASSERT_EQ(page["dev"].size(), 3u) << page.dump();
  EXPECT_EQ(page["dev"][0]["id"], urgent);
  EXPECT_EQ(page["dev"][1]["id"], old_p2);
  EXPECT_EQ(page["dev"][2]["id"], newer_p2);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(page["dev"][i]["position"], static_cast<int>(i + 1));
    EXPECT_NE(page["dev"][i]["why"], "") << page["dev"][i].dump();
  }
  // Why each waits is what `pipeline status --json` says of it.
  json status = ParseJson(RunPipeline({"status", "--json"}, repo.dir()).out);
  // The time a change has waited grows between the two reads: compared without it.
  auto without_wait = [](std::string r) {
    size_t at = r.rfind(" (waited ");
    return at == std::string::npos ? r : r.substr(0, at);
  };
  std::map<std::string, std::string> why;
  for (const auto& w : status["waiting"]) why[w["task_id"]] = without_wait(w["reason"]);
  for (const auto& row : page["dev"]) EXPECT_EQ(without_wait(row["why"]), why[row["id"].get<std::string>()]) << row.dump();
  ASSERT_EQ(page["merge"].size(), 1u) << page.dump();
  EXPECT_EQ(page["merge"][0]["id"], verified);
  EXPECT_EQ(without_wait(page["merge"][0]["why"]), why[verified]);
  EXPECT_NE(why[verified].find("queued for integration"), std::string::npos) << why[verified];
  EXPECT_FALSE(why[blocked].empty());
}

TEST_F(ServeBrowserTest, ARedBaseHeadsTheBoardOnce) {
  SchedRepo repo("");
  std::string a = repo.Task("Verified one", std::string("web"));
  std::string b = repo.Task("Verified two", std::string("web"));
  for (const auto& id : {a, b}) ASSERT_EQ(RunPipeline({"task", "update", id, "verified"}, repo.dir()).exit.exit_code, 0);
  // What the merge queue records when the base's own check fails.
  auto db = repo.Open();
  ASSERT_TRUE(AddEvent(*db, SystemClock().Now(), std::nullopt, std::nullopt, "base-red",
                       BaseRedDetail("main", "abc1234", "running tests\nFAILED: test_parser"))
                  .ok());
  ServeProcess serve;
  ASSERT_EQ(serve.Start(repo.dir()), "");
  json page = Drive("basered", serve.url() + "/", ScreenshotPath("base-red"));
  ASSERT_TRUE(page.is_object()) << page.dump();
  std::string banner = page["banner"];
  EXPECT_NE(banner.find("base red: main fails its check"), std::string::npos) << banner;
  EXPECT_NE(banner.find("FAILED: test_parser"), std::string::npos) << banner;
  EXPECT_EQ(page["count"], 1) << "the red base is one item needing attention, not one per held change";
  // A green verdict takes it away.
  ASSERT_TRUE(AddEvent(*db, SystemClock().Now(), std::nullopt, std::nullopt, "base-green", "main passes again").ok());
  json status = ParseJson(RunPipeline({"status", "--json"}, repo.dir()).out);
  for (const auto& w : status["waiting"]) EXPECT_FALSE(w.value("detail", json::object()).value("base_red", false)) << w.dump();
}

TEST_F(ServeBrowserTest, PausingADomainFromThePageHoldsItsTasksUntilResumed) {
  SchedRepo repo(Config(ProfileToml("t", {"sh", BrowserAgent("ask_or_commit.sh"), "{prompt_file}"})));
  std::string id = repo.Task("Wait for the pause", std::string("web"));
  ASSERT_EQ(RunPipeline({"fund", "grant", "--domain", "web", "--cents", "500"}, repo.dir()).exit.exit_code, 0);
  ServeProcess serve;
  ASSERT_EQ(serve.Start(repo.dir()), "");
  Drive("pause", serve.url() + "/", ScreenshotPath("domain-paused"), {"web", "pause"});
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM domain_pauses WHERE domain = 'web'"), 1);
  auto budgets = serve.Client().Get("/api/budgets");
  ASSERT_TRUE(budgets);
  EXPECT_EQ(ParseJson(budgets->body)[0]["paused"], true) << budgets->body;

  // While paused the scheduler starts nothing in the domain.
  auto r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE task_id = '" + id + "'"), 0);
  EXPECT_EQ(repo.Status(id), "open");

  Drive("pause", serve.url() + "/", ScreenshotPath("domain-resumed"), {"web", "resume"});
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM domain_pauses WHERE domain = 'web'"), 0);
  r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_GE(repo.Int("SELECT COUNT(*) FROM runs WHERE task_id = '" + id + "'"), 1);
  EXPECT_EQ(repo.Status(id), "needs-help");  // the agent asked its question
}

}  // namespace
}  // namespace pipeline::testing
