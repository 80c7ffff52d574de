// `pipeline status`, `status --watch` (in a pseudo-terminal), `pipeline why`,
// and what `pipeline run` says: reasons for waiting tasks, a waiting
// integration as a state with its own exit code, skip lines said once.
#include <gtest/gtest.h>

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include <nlohmann/json.hpp>

#include "agent/run_store.h"
#include "sched/sched_sql.h"
#include "sched/status_screen.h"
#include "sched_fixture.h"
#include "util/text.h"

namespace pipeline::testing {
namespace {

std::string Config(const std::string& profile_toml, const std::string& extra = "") {
  return "[fund]\ndefault_budget_cents = 100000\n"
         "[scheduler]\nbackoff_base_s = 0\nreserve_cents = 10\nintegrate_retry_s = 1\n" +
         extra + "\n[agent]\nprofile = \"t\"\n" + profile_toml + "\n[verify]\ncommand = []\n";
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

TEST(StatusWhy, ADependencyBlockedTaskSaysSoEverywhereAndIsNotReady) {
  SchedRepo repo(Config(ProfileToml("t", {"true"})), /*git=*/false);
  std::string first = repo.Task("first", std::string("A"));
  std::string second = repo.Task("second", std::string("A"), {first});

  auto st = RunPipeline({"status", "--json"}, repo.dir());
  ASSERT_TRUE(st.ok()) << st.err;
  auto j = nlohmann::json::parse(st.out);
  auto ready = RunPipeline({"task", "ready", "--json"}, repo.dir());
  ASSERT_TRUE(ready.ok()) << ready.err;
  auto rj = nlohmann::json::parse(ready.out);
  ASSERT_TRUE(rj.is_array()) << ready.out;
  EXPECT_EQ(j["ready"], rj.size());
  EXPECT_EQ(j["ready"], 1);
  bool found = false;
  for (const auto& w : j["waiting"]) {
    if (w["task_id"] != second) continue;
    found = true;
    EXPECT_EQ(w["kind"], "dependency");
    EXPECT_EQ(w["reason"], "waiting on dependency " + first + " (open)");
  }
  EXPECT_TRUE(found) << st.out;
  for (const auto& s : j["skipped"]) EXPECT_NE(s["task_id"], second) << st.out;
  EXPECT_FALSE(j["scheduler"]["running"].get<bool>());

  auto text = RunPipeline({"status"}, repo.dir());
  ASSERT_TRUE(text.ok()) << text.err;
  EXPECT_NE(text.out.find(second + "  waiting on dependency " + first + " (open)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("scheduler: not running"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("(ready=1)"), std::string::npos) << text.out;

  auto why = RunPipeline({"why", second}, repo.dir());
  ASSERT_TRUE(why.ok()) << why.err;
  EXPECT_EQ(why.out.rfind(second + ": waiting on dependency " + first + " (open)", 0), 0u) << why.out;
  auto why_json = RunPipeline({"why", second, "--json"}, repo.dir());
  ASSERT_TRUE(why_json.ok()) << why_json.err;
  EXPECT_EQ(nlohmann::json::parse(why_json.out)["kind"], "dependency");
  auto unknown = RunPipeline({"why", "t-999"}, repo.dir());
  EXPECT_EQ(unknown.exit.exit_code, 1);
  EXPECT_EQ(unknown.err.rfind("pipeline: ", 0), 0u) << unknown.err;
}

TEST(StatusWhy, NeedsHelpShowsTheQuestion) {
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(),
                Config(ProfileToml("t", {"bash", SourceDir() + "/tests/agents/question_agent.sh"})));
  std::string id = repo.Task("ambiguous", std::string("A"));
  auto r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  ASSERT_EQ(repo.Status(id), "needs-help") << r.err;
  auto st = RunPipeline({"status"}, repo.dir());
  ASSERT_TRUE(st.ok()) << st.err;
  EXPECT_NE(st.out.find("asks \"Which database should I use?\""), std::string::npos) << st.out;
  auto j = nlohmann::json::parse(RunPipeline({"status", "--json"}, repo.dir()).out);
  ASSERT_EQ(j["needs_help"].size(), 1u);
  EXPECT_EQ(j["needs_help"][0]["question"], "Which database should I use?");
  auto why = RunPipeline({"why", id}, repo.dir());
  EXPECT_NE(why.out.find("Which database should I use?"), std::string::npos) << why.out;
  EXPECT_NE(r.err.find("idle: 0 done"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 need help"), std::string::npos) << r.err;
}

TEST(StatusWhy, TheSkipLineOfATaskIsSaidOncePerReason) {
  SchedRepo repo(Config(ProfileToml("t", {"sleep", "1"}), "workspace = \"shared\"\nafter_run = \"review\"\n"),
                 /*git=*/false);
  std::string first = repo.Task("first", std::string("A"));
  std::string second = repo.Task("second", std::string("A"));
  auto r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo.Status(second), "review") << r.err;
  // While the first runs, every step would skip the second: said once.
  EXPECT_EQ(Count(r.err, "skip task=" + second + " domain busy: A"), 1u) << r.err;
  EXPECT_NE(r.err.find("idle: "), std::string::npos) << r.err;
}

TEST(StatusWhy, UntilIdleReturnsWhileAnIntegrationWaitsOnADirtyCheckout) {
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(), Config(ProfileToml("t", {repo.agent("sched_commit.sh")})));
  std::string id = repo.Task("make a change", std::string("A"));
  WriteTextFile(repo.dir() + "/README.md", "an edit the person has not committed\n");
  auto r = repo.Run({"--until-idle"}, 120000);
  EXPECT_EQ(r.exit.exit_code, 75) << r.err;
  EXPECT_EQ(repo.Status(id), "verified") << r.err;
  EXPECT_NE(r.err.find("pipeline run: " + id + " integration waiting: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("uncommitted changes (README.md)"), std::string::npos) << r.err;
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM events WHERE kind = 'integrate-waiting'"), 1);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM events WHERE kind IN ('failure', 'integrate-failed')"), 0);
  // Again: the same state, no new row.
  r = repo.Run({"--until-idle"}, 120000);
  EXPECT_EQ(r.exit.exit_code, 75) << r.err;
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM events WHERE kind = 'integrate-waiting'"), 1);
  auto st = nlohmann::json::parse(RunPipeline({"status", "--json"}, repo.dir()).out);
  EXPECT_TRUE(st["recent_failures"].empty()) << st.dump();
  auto why = RunPipeline({"why", id}, repo.dir());
  EXPECT_NE(why.out.find("README.md"), std::string::npos) << why.out;
  // The person commits: the next run integrates.
  ASSERT_TRUE(RunArgv({"git", "-C", repo.dir(), "commit", "-q", "-am", "the person's edit"}).ok());
  r = repo.Run({"--until-idle"}, 120000);
  EXPECT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo.Status(id), "done") << r.err;
}

// Starts `pipeline run ARGS...`, sends SIGINT once its run is claimed, and
// returns what it wrote on stderr.
std::string InterruptWhileRunning(SchedRepo& repo, const std::vector<std::string>& args) {
  std::string log = repo.dir() + "/run.log";
  pid_t pid = fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    if (!freopen(log.c_str(), "w", stderr)) _exit(126);
    if (chdir(repo.dir().c_str()) != 0) _exit(126);
    std::string bin = PipelineBin();
    std::vector<char*> argv = {bin.data(), const_cast<char*>("run")};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  for (int i = 0; i < 200 && repo.Int("SELECT COUNT(*) FROM runs WHERE status = 'running'") == 0; ++i) usleep(50000);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE status = 'running'"), 1);
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return ReadTextFile(log);
}

TEST(StatusWhy, CtrlCSaysWhatStillRunsAndTheRestartSaysWhatItAdopted) {
  SchedRepo repo(Config(ProfileToml("t", {"sleep", "3"}), "workspace = \"shared\"\nafter_run = \"review\"\n"),
                 /*git=*/false);
  std::string id = repo.Task("slow", std::string("A"));
  std::string err = InterruptWhileRunning(repo, {});
  EXPECT_NE(err.find("stopped: 1 run(s) still running (" + id + " dev); the next `pipeline run` adopts them"),
            std::string::npos)
      << err;
  auto r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("restart: adopted 1 running run(s)"), std::string::npos) << r.err;
  EXPECT_EQ(repo.Status(id), "review");
}

// Under --until-idle too, Ctrl-C is a stop, not the end of the work.
TEST(StatusWhy, CtrlCUnderUntilIdleSaysStoppedNotIdle) {
  SchedRepo repo(Config(ProfileToml("t", {"sleep", "3"}), "workspace = \"shared\"\nafter_run = \"review\"\n"),
                 /*git=*/false);
  std::string id = repo.Task("slow", std::string("A"));
  std::string err = InterruptWhileRunning(repo, {"--until-idle"});
  EXPECT_NE(err.find("stopped: 1 run(s) still running (" + id + " dev)"), std::string::npos) << err;
  EXPECT_EQ(err.find("idle:"), std::string::npos) << err;
}

// ---- status --watch in a pseudo-terminal ----

int Find(const std::vector<std::string>& lines, const std::string& needle) {
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].find(needle) != std::string::npos) return static_cast<int>(i);
  return -1;
}


// Runs `pipeline status --watch` on a pty of cols x rows; reads what it
// draws.
class WatchedStatus {
 public:
  WatchedStatus(const std::string& root, int cols, int rows) {
    struct winsize ws = {};
    ws.ws_col = static_cast<unsigned short>(cols);
    ws.ws_row = static_cast<unsigned short>(rows);
    pid_ = forkpty(&master_, nullptr, nullptr, &ws);
    if (pid_ == 0) {
      std::string bin = PipelineBin();
      execl(bin.c_str(), bin.c_str(), "status", "--watch", "--root", root.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~WatchedStatus() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) close(master_);
  }
  bool started() const { return pid_ > 0 && master_ >= 0; }
  void Resize(int cols, int rows) {
    struct winsize ws = {};
    ws.ws_col = static_cast<unsigned short>(cols);
    ws.ws_row = static_cast<unsigned short>(rows);
    ioctl(master_, TIOCSWINSZ, &ws);  // the kernel sends SIGWINCH to the watcher
  }
  // Reads until a complete frame for which `wanted` holds arrives (or 20 s
  // pass); returns that frame's lines.
  std::vector<std::string> FrameWhere(const std::function<bool(const std::vector<std::string>&)>& wanted) {
    const std::string clear = "\x1b[H\x1b[2J";
    for (int waited = 0; waited < 200; ++waited) {
      struct pollfd p = {master_, POLLIN, 0};
      if (poll(&p, 1, 100) > 0) {
        char buf[65536];
        ssize_t n = read(master_, buf, sizeof buf);
        if (n > 0) seen_.append(buf, static_cast<size_t>(n));
      }
      // The last complete frame: between the last two clears.
      size_t last = seen_.rfind(clear);
      if (last == std::string::npos || last == 0) continue;
      size_t prev = seen_.rfind(clear, last - 1);
      if (prev == std::string::npos) continue;
      std::string frame = seen_.substr(prev + clear.size(), last - prev - clear.size());
      std::vector<std::string> lines;
      for (auto& l : Split(frame, '\n')) {
        std::string clean;
        for (char c : l)
          if (c != '\r') clean += c;
        lines.push_back(clean);
      }
      if (wanted(lines)) return lines;
    }
    return {};
  }
  int Stop() {
    kill(pid_, SIGINT);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  int master_ = -1;
  std::string seen_;
};

TEST(StatusWatch, FitsAn80x24TerminalWithTwentyLongFailures) {
  SchedRepo repo(Config(ProfileToml("t", {"true"})), /*git=*/false);
  std::string running = repo.Task("a task being worked on", std::string("A"));
  std::string asked = repo.Task("an ambiguous task", std::string("B"));
  {
    auto db = repo.Open();
    TaskStore store(*db, SystemClock());
    ASSERT_TRUE(store.AddComment(asked, "Which database should I use?", "agent:engineer").ok());
    ASSERT_TRUE(store.SetStatus(asked, TaskStatus::kNeedsHelp).ok());
    ASSERT_TRUE(store.SetStatus(running, TaskStatus::kInProgress).ok());
    RunSpec spec;
    spec.run_id = "pipeline-a-" + running + "-1";
    spec.task_id = running;
    spec.domain = "A";
    spec.phase = "dev";
    spec.workspace = "/tmp";
    spec.argv = {"true"};
    ASSERT_TRUE(InsertRun(*db, spec, SystemClock()).ok());
    std::string compiler = "src/parse.c:12:5: error: expected ';' before '}' token " + std::string(212, '~');
    ASSERT_EQ(compiler.size(), 267u);
    for (int i = 0; i < 20; ++i)
      ASSERT_TRUE(AddEvent(*db, SystemClock().Now(), std::string("t-9"), std::nullopt, "failure",
                           "verification failed: " + compiler).ok());
  }
  WatchedStatus watch(repo.paths().root, 80, 24);
  ASSERT_TRUE(watch.started());
  auto lines = watch.FrameWhere([](const std::vector<std::string>& l) { return Find(l, "Running (1)") >= 0; });
  ASSERT_FALSE(lines.empty()) << "no frame drawn";
  EXPECT_LE(lines.size(), 24u);
  for (const auto& l : lines) EXPECT_LE(DisplayWidth(l), 80) << l;
  EXPECT_NE(lines[0].find("scheduler: not running"), std::string::npos) << lines[0];
  EXPECT_GE(Find(lines, "  " + running + " "), 0);
  EXPECT_GE(Find(lines, "Which database should I use?"), 0);
  EXPECT_GE(Find(lines, "10 recent failures"), 0);  // the snapshot keeps the latest 10
  EXPECT_GE(Find(lines, "failure: verification failed: src/parse"), 0);

  // Wider and taller: the next frame uses the room, still nothing past it.
  watch.Resize(160, 50);
  lines = watch.FrameWhere([](const std::vector<std::string>& l) {
    for (const auto& line : l)
      if (DisplayWidth(line) > 80) return true;
    return false;
  });
  ASSERT_FALSE(lines.empty()) << "no frame after the resize";
  EXPECT_LE(lines.size(), 50u);
  int widest = 0;
  for (const auto& l : lines) widest = std::max(widest, DisplayWidth(l));
  EXPECT_EQ(widest, 160);
  EXPECT_EQ(watch.Stop(), 0);
}

}  // namespace
}  // namespace pipeline::testing
