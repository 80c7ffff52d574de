// kill -9 the scheduler at random moments while it works through a backlog
// of 200 tasks in four domains, then let a clean run finish, and check that
// nothing was lost or done twice: every task reached review exactly once,
// every started run was settled exactly once (and runs that never started
// only released their hold), no run or process is left, no worktree is
// orphaned.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include "git/git.h"
#include "sched_fixture.h"

namespace pipeline::testing {
namespace {

TEST(Crash, KillNineAtRandomPointsKeepsEveryInvariant) {
  constexpr int kTasks = 200, kKills = 30;
  SchedRepo repo("");
  std::string config =
      "[fund]\ndefault_budget_cents = 1000000\n"
      "[scheduler]\nmax_active = 8\nreserve_cents = 10\nafter_run = \"review\"\nbackoff_base_s = 0\n"
      "[domains.\"d0\"]\nmax_active = 3\n[domains.\"d1\"]\nmax_active = 3\n"
      "[domains.\"d2\"]\nmax_active = 3\n[domains.\"d3\"]\nmax_active = 3\n"
      "[agent]\nprofile = \"t\"\n" +
      ProfileToml("t", {repo.agent("sched_cost.sh")});
  WriteTextFile(repo.paths().config(), config);
  {
    auto db = repo.Open();
    TaskStore store(*db, SystemClock());
    ASSERT_TRUE(db->Write([&]() -> Status {
                    for (int i = 0; i < kTasks; ++i) {
                      NewTask t;
                      t.title = "task " + std::to_string(i);
                      t.ns = "d" + std::to_string(i % 4);
                      PL_RETURN_IF_ERROR(store.Create(t).status());
                    }
                    return Status::Ok();
                  }).ok());
  }
  std::random_device rd;
  unsigned seed = rd();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::uniform_int_distribution<int> wait_ms(20, 400);
  for (int k = 0; k < kKills; ++k) {
    SpawnOptions o;
    o.argv = {PipelineBin(), "run", "--until-idle", "--quiet"};
    o.cwd = repo.dir();
    o.stderr_mode = SpawnOptions::Out::kNull;
    auto p = Spawn(o);
    ASSERT_TRUE(p.ok()) << p.message();
    usleep(static_cast<useconds_t>(wait_ms(rng)) * 1000);
    kill(p->pid, SIGKILL);
    waitpid(p->pid, nullptr, 0);
  }
  auto final_run = repo.Run({"--until-idle", "--quiet"}, 180000);
  ASSERT_EQ(final_run.exit.exit_code, 0) << final_run.err;

  // Every task reached review, exactly once.
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM tasks WHERE status = 'review'"), kTasks);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM events WHERE kind = 'harvest' AND detail LIKE 'review:%'"), kTasks);
  EXPECT_EQ(repo.Int("SELECT COUNT(DISTINCT task_id) FROM events WHERE kind = 'harvest' AND detail LIKE 'review:%'"),
            kTasks);
  // No run is left active or unharvested.
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE status IN ('starting', 'running')"), 0);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE harvested_at IS NULL"), 0);
  // Money: every started run spent exactly once (3 cents each); runs that
  // never started only released their hold; nothing is still held.
  int64_t started = repo.Int("SELECT COUNT(*) FROM runs WHERE phase = 'dev' AND started_at IS NOT NULL");
  int64_t never = repo.Int("SELECT COUNT(*) FROM runs WHERE phase = 'dev' AND started_at IS NULL");
  EXPECT_GE(started, kTasks);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM ledger WHERE kind = 'spend'"), started);
  EXPECT_EQ(repo.Int("SELECT IFNULL(SUM(cents), 0) FROM ledger WHERE kind = 'spend'"),
            repo.Int("SELECT CAST(IFNULL(SUM(cost_cents), 0) AS INTEGER) FROM runs WHERE phase = 'dev' "
                     "AND started_at IS NOT NULL"));
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM holds WHERE state = 'settled'"), started);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM holds WHERE state = 'released'"), never);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM holds WHERE state = 'held'"), 0);
  // No monitor or agent process is left.
  auto db = repo.Open();
  auto s = db->Prepare("SELECT IFNULL(monitor_pid, 0), IFNULL(monitor_start, 0), IFNULL(agent_pid, 0) FROM runs");
  ASSERT_TRUE(s.ok());
  int alive = 0;
  for (int attempt = 0; attempt < 50; ++attempt) {
    alive = 0;
    s->Reset();
    while (*s->Step()) {
      pid_t m = static_cast<pid_t>(s->Int(0)), a = static_cast<pid_t>(s->Int(2));
      if (m > 0 && ProcessAlive(m, static_cast<uint64_t>(s->Int(1)))) ++alive;
      if (a > 0 && GroupAlive(a)) ++alive;
    }
    if (alive == 0) break;
    usleep(100000);
  }
  EXPECT_EQ(alive, 0);
  // Worktrees: only tasks that exist (all in review) have one.
  Git git(RealProcessRunner(), repo.dir());
  auto wts = git.ListTaskWorktrees(repo.paths());
  ASSERT_TRUE(wts.ok()) << wts.message();
  for (const auto& id : *wts) EXPECT_EQ(repo.Status(id), "review") << id;
  auto list = git.ListWorktrees();
  ASSERT_TRUE(list.ok());
  for (const auto& w : *list) EXPECT_FALSE(w.prunable) << w.path;
}

}  // namespace
}  // namespace pipeline::testing
