// `pipeline run` with [executor] kind = "slurm" against a real one-node
// cluster: dev and verify runs are batch jobs, the merge queue stays here.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "sched_fixture.h"
#include "slurm/cluster.h"

namespace pipeline::testing {
namespace {

std::string SlurmConfig(const std::string& conf, const std::string& agent, const std::string& extra = "") {
  return "[fund]\ndefault_budget_cents = 100000\n"
         "[scheduler]\nbackoff_base_s = 0\nreserve_cents = 10\nintegrate_retry_s = 1\n" + extra +
         "\n[agent]\nprofile = \"t\"\n" + ProfileToml("t", {agent}) +
         "[verify]\ncommand = [\"test\", \"-f\", \"README.md\"]\n"
         "[executor]\nkind = \"slurm\"\n[executor.slurm]\nslurm_conf = \"" + conf + "\"\npoll_ms = 100\n";
}

// An agent that commits one file and reports 7 cents.
std::string CostlyCommitAgent(const std::string& dir) {
  std::string path = dir + "/agent.sh";
  WriteTextFile(path,
                "#!/bin/sh\nset -e\necho \"work for $PIPELINE_TASK_ID\" > \"work-$PIPELINE_TASK_ID.txt\"\n"
                "git add -A\ngit commit -q -m \"work on $PIPELINE_TASK_ID\"\necho 'cost_cents: 7'\n");
  chmod(path.c_str(), 0755);
  return path;
}

TEST(SchedSlurm, WholePipelineOnSlurmLandsEveryTaskWithExactCosts) {
  std::string conf = EnsureSlurmCluster();
  ASSERT_FALSE(::testing::Test::HasFailure());
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(), SlurmConfig(conf, CostlyCommitAgent(repo.dir())));
  std::vector<std::string> ids = {repo.Task("api change", std::string("src/api")),
                                  repo.Task("docs change", std::string("docs")),
                                  repo.Task("cli change", std::string("src/cli"))};
  auto r = repo.Run({"--until-idle"}, 180000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  for (const std::string& id : ids) {
    EXPECT_EQ(repo.Status(id), "done") << id << "\n" << r.err;
    auto show = RunArgv({"git", "-C", repo.dir(), "show", "main:work-" + id + ".txt"});
    EXPECT_TRUE(show.ok()) << id << ": " << show.err;
  }
  // Dev and verify runs went through Slurm; integration stayed here.
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE phase IN ('dev', 'verify') AND cluster_job IS NULL"), 0);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE phase = 'dev' AND status = 'done'"), 3);
  // (Tasks verified together are integrated in one batch: one run or more.)
  EXPECT_GE(repo.Int("SELECT COUNT(*) FROM runs WHERE phase = 'integrate' AND cluster_job IS NULL"), 1);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE phase = 'integrate' AND cluster_job IS NOT NULL"), 0);
  // Costs exact: 7 cents per dev run, settled once each, no hold left.
  EXPECT_EQ(repo.Int("SELECT IFNULL(SUM(cents), 0) FROM ledger WHERE kind = 'spend'"), 21);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM holds WHERE state = 'held'"), 0);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM holds WHERE state = 'settled'"), 3);
  EXPECT_EQ(repo.Int("SELECT COUNT(DISTINCT cluster_job) FROM runs WHERE cluster_job IS NOT NULL"),
            repo.Int("SELECT COUNT(*) FROM runs WHERE cluster_job IS NOT NULL"));
}

TEST(SchedSlurm, FiftyTasksLandWithExactCostsAndEveryRunSubmittedOnce) {
  std::string conf = EnsureSlurmCluster();
  ASSERT_FALSE(::testing::Test::HasFailure());
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(), SlurmConfig(conf, CostlyCommitAgent(repo.dir()), "max_active = 16\n"));
  const int kTasks = 50;
  std::vector<std::string> ids;
  for (int i = 0; i < kTasks; ++i) ids.push_back(repo.Task("change " + std::to_string(i), "d" + std::to_string(i)));
  auto r = repo.Run({"--until-idle", "--quiet"}, 280000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM tasks WHERE status = 'done'"), kTasks);
  // Costs exact: 7 cents per dev run, each hold settled once.
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE phase = 'dev'"), kTasks)
      << repo.Text("SELECT group_concat(run_id || ' ' || status || ': ' || IFNULL(error, '?'), char(10)) "
                   "FROM runs WHERE status != 'done'");
  EXPECT_EQ(repo.Int("SELECT IFNULL(SUM(cents), 0) FROM ledger WHERE kind = 'spend'"), 7 * kTasks);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM holds WHERE state = 'held'"), 0);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM holds WHERE state = 'settled'"), kTasks);
  // No job submitted twice: every dev and verify run is exactly one job in
  // the cluster's own job-completion record (its name carries the run id).
  std::vector<std::string> runs;
  {
    auto db = repo.Open();
    auto s = db->Prepare("SELECT run_id FROM runs WHERE phase IN ('dev', 'verify')");
    ASSERT_TRUE(s.ok());
    while (*s->Step()) runs.push_back(s->Text(0));
  }
  ASSERT_EQ(runs.size(), 2u * kTasks);
  std::string jobcomp = SlurmClusterDir() + "/log/jobcomp.log";
  // How many records name each run's job.
  auto records = [&] {
    std::string text = ReadTextFile(jobcomp);
    std::map<std::string, int> n;
    for (const std::string& run : runs) {
      std::string needle = " Name=pl-" + run + " ";
      for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n[run];
    }
    return n;
  };
  // A record is written as its job ends, which may follow the result by a moment.
  auto seen = records();
  for (int i = 0; i < 100 && seen.size() < runs.size(); ++i) {
    usleep(100'000);
    seen = records();
  }
  for (const std::string& run : runs) EXPECT_EQ(seen[run], 1) << run;
}

TEST(SchedSlurm, MisconfiguredExecutorIsAOneLineErrorAndStartsNothing) {
  std::string conf = EnsureSlurmCluster();
  SchedRepo repo("");
  std::string cfg = SlurmConfig(conf, "true");
  cfg.replace(cfg.find("kind = \"slurm\""), 14, "kind = \"slurm-cluster\"");
  WriteTextFile(repo.paths().config(), cfg);
  std::string id = repo.Task("a change", std::string("src/api"));
  auto r = repo.Run({"--until-idle"}, 60000);
  EXPECT_NE(r.exit.exit_code, 0);
  EXPECT_NE(r.err.find("executor.kind"), std::string::npos) << r.err;
  EXPECT_EQ(repo.Status(id), "open");
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs"), 0);
}

}  // namespace
}  // namespace pipeline::testing

namespace pipeline::testing {
namespace {

// Starts `pipeline run --until-idle` in repo without waiting for it.
pid_t StartScheduler(SchedRepo& repo) {
  SpawnOptions o;
  o.argv = {PipelineBin(), "run", "--until-idle", "--quiet"};
  o.cwd = repo.dir();
  auto p = Spawn(o);
  EXPECT_TRUE(p.ok()) << p.message();
  return p.ok() ? p->pid : -1;
}

// Waits until sql returns a non-empty text (20 s at most).
std::string WaitFor(SchedRepo& repo, const std::string& sql) {
  for (int i = 0; i < 400; ++i) {
    std::string v = repo.Text(sql);
    if (!v.empty()) return v;
    usleep(50'000);
  }
  ADD_FAILURE() << "timed out waiting for: " << sql;
  return "";
}

// An agent that sleeps on its first attempt (long enough to be cancelled or
// to outlive a killed scheduler), then commits and reports 7 cents.
std::string SlowFirstAgent(const std::string& dir, int first_sleep_s) {
  std::string path = dir + "/slow-agent.sh";
  WriteTextFile(path, "#!/bin/sh\nset -e\nmarker=\"" + dir + "/attempted-$PIPELINE_TASK_ID\"\n"
                      "if [ ! -e \"$marker\" ]; then touch \"$marker\"; sleep " + std::to_string(first_sleep_s) + "; fi\n"
                      "echo \"work for $PIPELINE_TASK_ID\" > \"work-$PIPELINE_TASK_ID.txt\"\n"
                      "git add -A\ngit commit -q -m \"work on $PIPELINE_TASK_ID\"\necho 'cost_cents: 7'\n");
  chmod(path.c_str(), 0755);
  return path;
}

TEST(SchedSlurm, JobCancelledFromOutsideIsKilledAndRetried) {
  std::string conf = EnsureSlurmCluster();
  ASSERT_FALSE(::testing::Test::HasFailure());
  SchedRepo repo("");
  // The agent marks its first attempt outside its workspace: not confined.
  WriteTextFile(repo.paths().config(),
                SlurmConfig(conf, SlowFirstAgent(repo.dir(), 30)) + "[sandbox]\nenabled = false\n");
  std::string id = repo.Task("a change", std::string("src/api"));
  pid_t sched = StartScheduler(repo);
  ASSERT_GT(sched, 0);
  std::string job = WaitFor(repo, "SELECT cluster_job FROM runs WHERE phase = 'dev' AND cluster_job IS NOT NULL");
  ASSERT_FALSE(job.empty());
  WaitFor(repo, "SELECT 1 FROM tasks WHERE id = '" + id + "'");
  // Let the job start its agent, then cancel it as an administrator would.
  for (int i = 0; i < 200 && !std::filesystem::exists(repo.dir() + "/attempted-" + id); ++i) usleep(50'000);
  auto cancel = RunArgv({"scancel", job}, "", {{"SLURM_CONF", conf}});
  ASSERT_TRUE(cancel.ok()) << cancel.err;
  int status = 0;
  ASSERT_EQ(waitpid(sched, &status, 0), sched);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(repo.Status(id), "done");
  EXPECT_EQ(repo.Text("SELECT status FROM runs WHERE cluster_job = '" + job + "'"), "killed")
      << repo.Text("SELECT error FROM runs WHERE cluster_job = '" + job + "'");
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE phase = 'dev' AND status = 'done'"), 1);
  EXPECT_EQ(repo.Int("SELECT IFNULL(SUM(cents), 0) FROM ledger WHERE kind = 'spend'"), 7);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM holds WHERE state = 'held'"), 0);
}

// `pipeline agent kill` (or a cancel from the dashboard) is another process:
// it marks the run, and the scheduler cancels the run's job, which would
// otherwise go on spending for a run nobody wants.
TEST(SchedSlurm, AKillAskedByAnotherProcessCancelsTheJob) {
  std::string conf = EnsureSlurmCluster();
  ASSERT_FALSE(::testing::Test::HasFailure());
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(),
                SlurmConfig(conf, SlowFirstAgent(repo.dir(), 60)) + "[sandbox]\nenabled = false\n");
  std::string id = repo.Task("a change", std::string("src/api"));
  Micros start = SystemClock().Now();
  pid_t sched = StartScheduler(repo);
  ASSERT_GT(sched, 0);
  std::string run = WaitFor(repo, "SELECT run_id FROM runs WHERE phase = 'dev' AND cluster_job IS NOT NULL");
  ASSERT_FALSE(run.empty());
  for (int i = 0; i < 200 && !std::filesystem::exists(repo.dir() + "/attempted-" + id); ++i) usleep(50'000);
  auto killed = RunPipeline({"agent", "kill", run}, repo.dir());
  ASSERT_TRUE(killed.ok()) << killed.err;
  int status = 0;
  ASSERT_EQ(waitpid(sched, &status, 0), sched);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(repo.Text("SELECT status || ': ' || IFNULL(error, '') FROM runs WHERE run_id = '" + run + "'"),
            "killed: killed on request");
  // Well before the agent's 60 s sleep would have ended.
  EXPECT_LT(SystemClock().Now() - start, 45'000'000);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM holds WHERE state = 'held'"), 0);
}

TEST(SchedSlurm, KilledSchedulerIsRestartedAndAdoptsItsJobsWithoutResubmitting) {
  std::string conf = EnsureSlurmCluster();
  ASSERT_FALSE(::testing::Test::HasFailure());
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(),
                SlurmConfig(conf, SlowFirstAgent(repo.dir(), 3)) + "[sandbox]\nenabled = false\n");
  std::vector<std::string> ids = {repo.Task("api", std::string("src/api")), repo.Task("docs", std::string("docs"))};
  pid_t sched = StartScheduler(repo);
  ASSERT_GT(sched, 0);
  for (int i = 0; i < 400 && repo.Int("SELECT COUNT(*) FROM runs WHERE cluster_job IS NOT NULL") < 2; ++i) usleep(50'000);
  ASSERT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE cluster_job IS NOT NULL"), 2);
  kill(sched, SIGKILL);
  waitpid(sched, nullptr, 0);
  auto r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  for (const std::string& id : ids) EXPECT_EQ(repo.Status(id), "done") << id << "\n" << r.err;
  // The two jobs were adopted, not submitted again: one dev run per task.
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE phase = 'dev'"), 2);
  EXPECT_EQ(repo.Int("SELECT IFNULL(SUM(cents), 0) FROM ledger WHERE kind = 'spend'"), 14);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM holds WHERE state = 'held'"), 0);
}

// A job that holds both CPUs of the test node on the `strict` partition
// (no oversubscription), cancelled when the test ends however it ends.
class NodeBlocker {
 public:
  explicit NodeBlocker(std::string conf) : conf_(std::move(conf)) {
    auto r = RunArgv({"sbatch", "--parsable", "-p", "strict", "-c", "2", "--job-name=blocker", "--output=/dev/null",
                      "--wrap", "sleep 300"},
                     "/tmp", {{"SLURM_CONF", conf_}});
    EXPECT_TRUE(r.ok()) << r.err;
    id_ = r.ok() ? r.out.substr(0, r.out.find_first_of(";\n")) : "";
    // Running before anything queues behind it.
    for (int i = 0; i < 200 && !id_.empty(); ++i) {
      auto q = RunArgv({"squeue", "-h", "-j", id_, "-o", "%T"}, "", {{"SLURM_CONF", conf_}});
      if (q.ok() && q.out.find("RUNNING") != std::string::npos) return;
      usleep(50'000);
    }
    ADD_FAILURE() << "the blocking job " << id_ << " did not start";
  }
  ~NodeBlocker() { Release(); }
  void Release() {
    if (!id_.empty()) (void)RunArgv({"scancel", id_}, "", {{"SLURM_CONF", conf_}});
    id_.clear();
  }

 private:
  std::string conf_, id_;
};

// The executor switched back to local while a job is out: the local
// scheduler could never see it end, so it refuses, in one line, until the
// person sets Slurm back or gives the run up; then the task goes on here.
TEST(SchedSlurm, SwitchingToLocalWithAJobOutIsRefusedUntilTheRunIsGivenUp) {
  std::string conf = EnsureSlurmCluster();
  ASSERT_FALSE(::testing::Test::HasFailure());
  SchedRepo repo("");
  std::string agent = SlowFirstAgent(repo.dir(), 60);
  WriteTextFile(repo.paths().config(), SlurmConfig(conf, agent) + "[sandbox]\nenabled = false\n");
  std::string id = repo.Task("a change", std::string("src/api"));
  pid_t sched = StartScheduler(repo);
  ASSERT_GT(sched, 0);
  std::string job = WaitFor(repo, "SELECT cluster_job FROM runs WHERE phase = 'dev' AND cluster_job IS NOT NULL");
  std::string run = repo.Text("SELECT run_id FROM runs WHERE cluster_job = '" + job + "'");
  kill(sched, SIGKILL);
  waitpid(sched, nullptr, 0);

  WriteTextFile(repo.paths().config(),
                "[fund]\ndefault_budget_cents = 100000\n[scheduler]\nbackoff_base_s = 0\n"
                "[agent]\nprofile = \"t\"\n" + ProfileToml("t", {CostlyCommitAgent(repo.dir())}) +
                "[verify]\ncommand = [\"test\", \"-f\", \"README.md\"]\n[sandbox]\nenabled = false\n");
  auto refused = repo.Run({"--until-idle"}, 60000);
  EXPECT_NE(refused.exit.exit_code, 0);
  EXPECT_NE(refused.err.find("1 run is still out on a Slurm cluster (" + run + " job " + job + ")"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("'pipeline agent kill RUN'\n"), std::string::npos) << "one line: " << refused.err;
  EXPECT_EQ(repo.Text("SELECT status FROM runs WHERE run_id = '" + run + "'"), "starting");

  // As the error says: the job cancelled, then the run given up.
  auto cancelled = RunArgv({"scancel", job}, "", {{"SLURM_CONF", conf}});
  ASSERT_TRUE(cancelled.ok()) << cancelled.err;
  auto given_up = RunPipeline({"agent", "kill", run}, repo.dir());
  ASSERT_TRUE(given_up.ok()) << given_up.err;
  EXPECT_NE(given_up.out.find("kill requested"), std::string::npos) << given_up.out;
  auto r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo.Status(id), "done") << r.err;
  EXPECT_EQ(repo.Text("SELECT status FROM runs WHERE run_id = '" + run + "'"), "killed");
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE phase = 'dev' AND status = 'done' AND cluster_job IS NULL"), 1);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM holds WHERE state = 'held'"), 0);
}

TEST(SchedSlurm, StatusShowsWhyAJobIsQueuedOnSlurm) {
  std::string conf = EnsureSlurmCluster();
  ASSERT_FALSE(::testing::Test::HasFailure());
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(),
                SlurmConfig(conf, CostlyCommitAgent(repo.dir())) + "partition = \"strict\"\n");
  std::string id = repo.Task("a change", std::string("src/api"));
  NodeBlocker blocker(conf);
  ASSERT_FALSE(::testing::Test::HasFailure());
  pid_t sched = StartScheduler(repo);
  ASSERT_GT(sched, 0);
  // The run's job waits for the node the blocker holds; status, another
  // process than the scheduler, says why.
  std::string queued;
  nlohmann::json snap;
  for (int i = 0; i < 300 && queued.empty(); ++i) {
    auto st = RunPipeline({"status", "--json"}, repo.dir());
    if (st.ok()) {
      snap = nlohmann::json::parse(st.out, nullptr, false);
      if (snap.is_object())
        for (const auto& a : snap.value("active_runs", nlohmann::json::array()))
          if (a.value("arTaskId", "") == id && a.contains("queued")) queued = a["queued"].get<std::string>();
    }
    if (queued.empty()) usleep(50'000);
  }
  EXPECT_EQ(queued, "queued on Slurm: Resources") << snap.dump();
  bool in_waiting = false;
  for (const auto& w : snap.value("waiting", nlohmann::json::array()))
    if (w.value("task_id", "") == id && w.value("reason", "").find("queued on Slurm: Resources") == 0) in_waiting = true;
  EXPECT_TRUE(in_waiting) << snap.dump();
  auto text = RunPipeline({"status"}, repo.dir());
  EXPECT_NE(text.out.find("queued on Slurm: Resources"), std::string::npos) << text.out;
  // Once the node is free the job runs and the run lands as usual.
  blocker.Release();
  int status = 0;
  ASSERT_EQ(waitpid(sched, &status, 0), sched);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(repo.Status(id), "done");
  // The reason was written when it appeared; once the run ended status no
  // longer says it waits.
  EXPECT_GE(repo.Int("SELECT COUNT(*) FROM events WHERE kind = 'cluster-queue' AND detail = 'Resources'"), 1);
  auto after = RunPipeline({"status"}, repo.dir());
  EXPECT_TRUE(after.ok()) << after.err;
  EXPECT_EQ(after.out.find("queued on Slurm"), std::string::npos) << after.out;
}

// Slurm's minimum limit is one minute and slurmctld looks at limits every
// 30 s, so this test takes 60-95 s: it is the one slow Slurm test.
TEST(SchedSlurm, AJobPastItsTimeLimitEndsTheRunAsTimeout) {
  std::string conf = EnsureSlurmCluster();
  ASSERT_FALSE(::testing::Test::HasFailure());
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(), SlurmConfig(conf, SlowFirstAgent(repo.dir(), 600)) +
                                           "time_limit_minutes = 1\n[sandbox]\nenabled = false\n");
  std::string id = repo.Task("a change", std::string("src/api"));
  auto r = repo.Run({"--until-idle"}, 240000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  // The first attempt ran out of time on the cluster; the retry landed.
  EXPECT_EQ(repo.Text("SELECT status || ': ' || IFNULL(error, '') FROM runs WHERE phase = 'dev' ORDER BY created_at LIMIT 1"),
            "timeout: the cluster job ran past its time limit");
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE phase = 'dev'"), 2);
  EXPECT_EQ(repo.Status(id), "done");
  std::string job = repo.Text("SELECT cluster_job FROM runs WHERE phase = 'dev' ORDER BY created_at LIMIT 1");
  auto state = RunArgv({"scontrol", "show", "job", "-o", job}, "", {{"SLURM_CONF", conf}});
  EXPECT_NE(state.out.find("JobState=TIMEOUT"), std::string::npos) << state.out << state.err;
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM holds WHERE state = 'held'"), 0);
}

}  // namespace
}  // namespace pipeline::testing
