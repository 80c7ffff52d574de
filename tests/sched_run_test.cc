// `pipeline run` end to end: real monitors, scripted agents, real git.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "sched/scheduler_lock.h"
#include "sched_fixture.h"

namespace pipeline::testing {
namespace {

// verify: the [verify] command's TOML value; "[]" switches verification off
// (`pipeline run` refuses to start without a decision).
std::string Config(const std::string& profile_argv_toml, const std::string& extra = "",
                   const std::string& verify = "[]") {
  return "[fund]\ndefault_budget_cents = 100000\n"
         "[scheduler]\nbackoff_base_s = 0\nreserve_cents = 10\nintegrate_retry_s = 1\n" +
         extra + "\n[agent]\nprofile = \"t\"\n" + profile_argv_toml + "[verify]\ncommand = " + verify + "\n";
}

TEST(SchedRun, OneRunPerDomainAndMaxActive) {
  SchedRepo repo(Config(ProfileToml("t", {"sleep", "2"})), /*git=*/false);
  WriteTextFile(repo.paths().config(),
                Config(ProfileToml("t", {"sleep", "2"}), "workspace = \"shared\"\n"));
  for (const char* ns : {"A", "A", "B", "B", "C", "C"}) repo.Task(std::string("task in ") + ns, std::string(ns));
  auto r = repo.Run({"--once", "--max-active", "2"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE phase = 'dev'"), 2);
  EXPECT_EQ(repo.Int("SELECT COUNT(DISTINCT domain) FROM runs WHERE phase = 'dev'"), 2);
  // A second step fills the third slot's worth only up to one run per domain.
  r = repo.Run({"--once", "--max-active", "8"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE phase = 'dev'"), 3);
  EXPECT_EQ(repo.Int("SELECT COUNT(DISTINCT domain) FROM runs WHERE phase = 'dev'"), 3);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM tasks WHERE status = 'in-progress'"), 3);
  // Let them finish: every task ends in review (shared workspace, --after-run review).
  r = repo.Run({"--until-idle", "--after-run", "review"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM tasks WHERE status = 'review'"), 6);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE harvested_at IS NULL"), 0);
}

TEST(SchedRun, CommitVerifyIntegrateDone) {
  SchedRepo repo(Config(ProfileToml("t", {"PLACEHOLDER"})));
  WriteTextFile(repo.paths().config(),
                Config(ProfileToml("t", {repo.agent("sched_commit.sh")}), "", "[\"test\", \"-f\", \"README.md\"]"));
  std::string id = repo.Task("make a change", std::string("src/api"));
  auto r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo.Status(id), "done") << r.err;
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE phase = 'verify' AND status = 'done'"), 1);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM comments WHERE text LIKE 'Pipeline: integrated into main at %'"), 1);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM comments WHERE text LIKE 'Pipeline scheduler: run=pipeline-src-api-" +
                     id + "-% domain=src/api status=done cost=0c'"),
            1);
  // The work is on main, and the task's worktree and branch are gone.
  auto show = RunArgv({"git", "-C", repo.dir(), "show", "main:work-" + id + ".txt"});
  EXPECT_TRUE(show.ok()) << show.err;
  EXPECT_FALSE(std::filesystem::exists(repo.paths().worktrees_dir() + "/" + id));
}

TEST(SchedRun, VerifyFailureReopensWithFeedbackThenCapsToNeedsHelp) {
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(), Config(ProfileToml("t", {repo.agent("sched_commit.sh")}), "max_patchsets = 2\n",
                                              "[\"sh\", \"-c\", \"echo BROKEN-BUILD; exit 1\"]"));
  std::string id = repo.Task("change that never verifies", std::string("src/api"));
  auto r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo.Status(id), "needs-help");
  EXPECT_EQ(repo.Int("SELECT patchset FROM tasks WHERE id = '" + id + "'"), 2);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE phase = 'verify' AND task_id = '" + id + "'"), 2);
  EXPECT_NE(repo.Text("SELECT feedback FROM tasks WHERE id = '" + id + "'").find("BROKEN-BUILD"), std::string::npos);
  // The second dev run was told why the first patchset was rejected.
  std::string second = repo.Text("SELECT prompt_path FROM runs WHERE phase = 'dev' ORDER BY created_at DESC LIMIT 1");
  std::string prompt = ReadTextFile(second);
  EXPECT_NE(prompt.find("The previous patchset was rejected"), std::string::npos) << prompt;
  EXPECT_NE(prompt.find("BROKEN-BUILD"), std::string::npos);
}

TEST(SchedRun, FailuresRetryThenNeedsHelpAndHumanReopens) {
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(),
                Config(ProfileToml("t", {repo.agent("sched_fail.sh")}), "max_retries = 3\n"));
  std::string id = repo.Task("hopeless", std::string("B"));
  auto r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo.Status(id), "needs-help");
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE task_id = '" + id + "' AND phase = 'dev'"), 3);
  EXPECT_EQ(repo.Int("SELECT retries FROM tasks WHERE id = '" + id + "'"), 3);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM comments WHERE task_id = '" + id + "' AND text LIKE '%exceeded 3 retries%'"), 1);
  // Why, not only that: the agent's own error in the log and in the needs-help reason.
  EXPECT_NE(r.err.find("run failed: agent exited with code 3: agent could not do it; retry 1/3"), std::string::npos)
      << r.err;
  auto why = RunPipeline({"why", id}, repo.dir());
  EXPECT_NE(why.out.find("agent exited with code 3: agent could not do it"), std::string::npos) << why.out;
  // Every run was settled exactly once.
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM ledger WHERE kind = 'spend'"), 3);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM holds WHERE state = 'held'"), 0);
  // A person answers: the next step re-opens the task (and starts it again).
  auto c = RunPipeline({"task", "comment", id, "try the other approach", "--author", "human"}, repo.dir());
  ASSERT_TRUE(c.ok()) << c.err;
  r = repo.Run({"--once", "--max-active", "1"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM comments WHERE task_id = '" + id +
                     "' AND text = 'Pipeline: human responded, re-opening for dev'"),
            1);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE task_id = '" + id + "' AND phase = 'dev'"), 4);
}

TEST(SchedRun, TaskCostCapLeadsToNeedsHelp) {
  SchedRepo repo("");
  // The agent reports a cost of 40 cents and fails; the cap is 70 cents.
  WriteTextFile(repo.dir() + "/costly.sh", "#!/bin/sh\necho 'cost_cents: 40'\nexit 1\n");
  chmod((repo.dir() + "/costly.sh").c_str(), 0755);
  WriteTextFile(repo.paths().config(), Config(ProfileToml("t", {repo.dir() + "/costly.sh"}),
                                              "max_retries = 10\nmax_task_cost_cents = 70\n"));
  std::string id = repo.Task("expensive", std::string("C"));
  auto r = repo.Run({"--until-idle", "--reserve-cents", "50"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo.Status(id), "needs-help");
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE task_id = '" + id + "'"), 2);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM comments WHERE text LIKE '%exceeded cost cap of 70c%'"), 1);
  EXPECT_EQ(repo.Int("SELECT IFNULL(SUM(cents), 0) FROM ledger WHERE kind = 'spend'"), 80);
}

TEST(SchedRun, BudgetExhaustionStopsOnlyThatDomain) {
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(),
                "[fund]\ndefault_budget_cents = 0\n[scheduler]\nreserve_cents = 10\nafter_run = \"review\"\n"
                "[agent]\nprofile = \"t\"\n" + ProfileToml("t", {"true"}));
  ASSERT_TRUE(RunPipeline({"fund", "grant", "--domain", "rich", "--cents", "1000"}, repo.dir()).ok());
  ASSERT_TRUE(RunPipeline({"fund", "grant", "--domain", "poor", "--cents", "15"}, repo.dir()).ok());
  std::vector<std::string> rich, poor;
  for (int i = 0; i < 3; ++i) rich.push_back(repo.Task("rich work", std::string("rich")));
  for (int i = 0; i < 3; ++i) poor.push_back(repo.Task("poor work", std::string("poor")));
  auto r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  for (const auto& id : rich) EXPECT_EQ(repo.Status(id), "review");
  // 15 cents hold one 10-cent reservation at a time; runs cost 0, so the
  // holds come back and all three run one after another...
  for (const auto& id : poor) EXPECT_EQ(repo.Status(id), "review");
  // ...but a domain with nothing left runs nothing, while others go on.
  ASSERT_TRUE(RunPipeline({"fund", "set", "--domain", "poor", "--cents", "5"}, repo.dir()).ok());
  std::string stuck = repo.Task("poor again", std::string("poor"));
  std::string fine = repo.Task("rich again", std::string("rich"));
  r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo.Status(stuck), "open");
  EXPECT_EQ(repo.Status(fine), "review");
  EXPECT_NE(r.err.find("no budget in poor"), std::string::npos) << r.err;
  auto st = RunPipeline({"status", "--json"}, repo.dir());
  ASSERT_TRUE(st.ok()) << st.err;
  EXPECT_NE(st.out.find("no budget"), std::string::npos) << st.out;
}

TEST(SchedRun, TasksWithoutNamespaceAreReported) {
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(), Config(ProfileToml("t", {"true"}), "after_run = \"review\"\n"));
  std::string id = repo.Task("no namespace", std::nullopt);
  auto r = repo.Run({"--until-idle"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo.Status(id), "open");
  EXPECT_NE(r.err.find("no namespace"), std::string::npos) << r.err;
  auto st = RunPipeline({"status"}, repo.dir());
  EXPECT_NE(st.out.find(id + "  no namespace"), std::string::npos) << st.out;
}

std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    // SQLite's shared-memory index: every reader of a WAL database writes its
    // read marks there; it holds no state of the store.
    if (e.path().string().ends_with("-shm")) continue;
    if (!e.is_regular_file()) {
      files[e.path().string()] = "<dir>";
      continue;
    }
    std::ifstream f(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    files[e.path().string()] = ss.str();
  }
  return files;
}

TEST(SchedRun, DryRunChangesNothing) {
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(), Config(ProfileToml("t", {repo.agent("sched_fail.sh")}), ""));
  std::string a = repo.Task("first", std::string("A"));
  repo.Task("second", std::string("A"));
  std::string b = repo.Task("third", std::string("B"));
  // One failed run waiting to be harvested, so the plan has a harvest too.
  auto once = repo.Run({"--once", "--task-id", b});
  ASSERT_EQ(once.exit.exit_code, 0) << once.err;
  for (int i = 0; i < 100 && repo.Int("SELECT COUNT(*) FROM runs WHERE status = 'failed'") == 0; ++i) usleep(50000);
  // The monitor records the outcome before it finishes its log and closes
  // SQLite (which checkpoints and removes the WAL); on a loaded machine that
  // tail can take a while, so wait until the root stops changing.
  auto before = Snapshot(repo.paths().root);
  for (int quiet = 0, i = 0; quiet < 5 && i < 200; ++i) {
    usleep(100000);
    auto now = Snapshot(repo.paths().root);
    quiet = now == before ? quiet + 1 : 0;
    before = std::move(now);
  }
  auto r = repo.Run({"--dry-run"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("would-harvest task=" + b), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("would-start task=" + a), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing was changed"), std::string::npos);
  auto after = Snapshot(repo.paths().root);
  std::string changed;
  for (const auto& [path, content] : after) {
    auto it = before.find(path);
    if (it == before.end() || it->second != content) changed += " " + path;
  }
  for (const auto& [path, content] : before)
    if (!after.count(path)) changed += " -" + path;
  EXPECT_EQ(changed, "") << "the root changed under --dry-run";
}

TEST(SchedRun, SecondSchedulerIsRefused) {
  SchedRepo repo(Config(ProfileToml("t", {"true"})));
  auto lock = SchedulerLock::Acquire(repo.paths());
  ASSERT_TRUE(lock.ok()) << lock.message();
  auto r = repo.Run({"--once"});
  EXPECT_EQ(r.exit.exit_code, 1);
  EXPECT_NE(r.err.find("another scheduler (pid " + std::to_string(getpid()) + ")"), std::string::npos) << r.err;
}

// A record lock does not conflict within its own process, so the lock itself
// refuses a second holder there; once released it can be taken again.
TEST(SchedRun, SchedulerLockIsOnePerProcess) {
  SchedRepo repo("");
  {
    auto first = SchedulerLock::Acquire(repo.paths());
    ASSERT_TRUE(first.ok()) << first.message();
    auto second = SchedulerLock::Acquire(repo.paths());
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.kind(), ErrorKind::kRefused);
  }
  auto again = SchedulerLock::Acquire(repo.paths());
  EXPECT_TRUE(again.ok()) << again.message();
}

TEST(SchedRun, BadOptionsAreUsageErrors) {
  SchedRepo repo("");
  auto r = repo.Run({"--max-active", "0"});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_EQ(r.err.rfind("pipeline: --max-active", 0), 0u) << r.err;
  r = repo.Run({"--task-cmd", "task"});
  EXPECT_EQ(r.exit.exit_code, 2);
  r = repo.Run({"--after-run", "ship"});
  EXPECT_EQ(r.exit.exit_code, 2);
  auto help = repo.Run({"--help"});
  EXPECT_EQ(help.exit.exit_code, 0);
  EXPECT_NE(help.out.find("--reserve-cents"), std::string::npos);
  auto shelp = RunPipeline({"status", "--help"}, repo.dir());
  EXPECT_NE(shelp.out.find("--watch"), std::string::npos);
}

TEST(SchedStatus, JsonHasTheProtocolFieldsAndMissingRootFails) {
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(),
                Config(ProfileToml("t", {"sleep", "3"}), "workspace = \"shared\"\n"));
  std::string id = repo.Task("slow", std::string("src/api"));
  ASSERT_EQ(repo.Run({"--once"}).exit.exit_code, 0);
  auto st = RunPipeline({"status", "--json"}, repo.dir());
  ASSERT_TRUE(st.ok()) << st.err;
  auto j = nlohmann::json::parse(st.out);
  ASSERT_EQ(j["count"], 1);
  EXPECT_EQ(j["active_runs"][0]["arTaskId"], id);
  EXPECT_EQ(j["active_runs"][0]["arDomain"], "src/api");
  EXPECT_EQ(j["active_runs"][0]["arNamespace"], "src/api");
  EXPECT_TRUE(j["active_runs"][0]["arStartedAt"].is_string());
  EXPECT_EQ(j["counts"]["in-progress"], 1);
  TempDir empty;
  auto missing = RunPipeline({"status", "--root", empty.path() + "/nope"}, empty.path());
  EXPECT_EQ(missing.exit.exit_code, 1);
  EXPECT_EQ(missing.err.rfind("pipeline: ", 0), 0u);
  (void)repo.Run({"--until-idle", "--after-run", "review"}, 60000);
}

}  // namespace
}  // namespace pipeline::testing
