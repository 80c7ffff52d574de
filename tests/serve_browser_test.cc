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

#include <chrono>
#include <thread>

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
    if (PathExists(SourceDir() + "/tools/browser/node_modules/puppeteer-core/package.json")) return std::string();
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

}  // namespace
}  // namespace pipeline::testing
