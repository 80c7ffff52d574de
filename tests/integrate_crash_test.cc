// kill -9 during `pipeline integrate-task`: the base branch is before or after
// the task's commit, never in between, and the next run finishes the job.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include "integrate_test_fixture.h"
#include "integrate/lock.h"

namespace pipeline::testing {
namespace {

TEST_F(IntegrateCliTest, CrashBetweenRefAndCheckoutIsRepairedByTheNextRun) {
  std::string before = Rev("main");
  std::string id = MakeTask("Feature", "feature.txt", "x\n");
  auto crashed = Integrate({id}, {{"PIPELINE_TEST_CRASH_AT", "after-ref"}});
  ASSERT_TRUE(crashed.exit.signaled()) << crashed.out << crashed.err;
  EXPECT_EQ(crashed.exit.term_signal, SIGKILL);
  // The ref moved in one step: main is the task's squash commit...
  std::string after = Rev("main");
  EXPECT_EQ(Git({"rev-list", "--parents", "-n", "1", after}), after + " " + before);
  EXPECT_EQ(Git({"rev-parse", after + "^{tree}"}), Git({"rev-parse", "pipeline/" + id + "^{tree}"}));
  // ...while the checkout's files still hold the old commit.
  EXPECT_FALSE(PathExists(repo_ + "/feature.txt"));
  EXPECT_TRUE(PathExists(IntegrateJournalPath(paths_, "main")));

  auto next = Integrate({id});
  ASSERT_EQ(next.exit.exit_code, 0) << next.out << next.err;
  nlohmann::json j = LastLine(next);
  EXPECT_EQ(j["commit"], after);
  EXPECT_EQ(j["already"], true);
  EXPECT_EQ(Rev("main"), after);
  EXPECT_EQ(ReadTextFile(repo_ + "/feature.txt"), "x\n");
  EXPECT_EQ(Status(), "");
  EXPECT_FALSE(PathExists(IntegrateJournalPath(paths_, "main")));
}

TEST_F(IntegrateCliTest, CrashBeforeTheRefMovesLeavesTheBaseAsItWas) {
  std::string before = Rev("main");
  std::string id = MakeTask("Feature", "feature.txt", "x\n");
  auto crashed = Integrate({id}, {{"PIPELINE_TEST_CRASH_AT", "before-ref"}});
  ASSERT_TRUE(crashed.exit.signaled());
  EXPECT_EQ(Rev("main"), before);
  EXPECT_EQ(Status(), "");
  auto next = Integrate({id});
  ASSERT_EQ(next.exit.exit_code, 0) << next.err;
  EXPECT_EQ(ReadTextFile(repo_ + "/feature.txt"), "x\n");
}

// SIGKILL the worker at spread-out moments of its run (the check sleeps, so
// some kills land in it, some before, some after). Whatever the moment, main
// is exactly `before` or the task's squash commit, and a second run completes.
TEST_F(IntegrateCliTest, KillNineAtRandomMomentsNeverLeavesBaseInBetween) {
  WriteConfig("[verify]\ncommand = [\"sleep\", \"0.2\"]\n");
  const unsigned seed = static_cast<unsigned>(getpid());
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_ms(0, 700);
  SCOPED_TRACE("seed " + std::to_string(seed));
  for (int round = 0; round < 6; ++round) {
    std::string file = "f" + std::to_string(round) + ".txt";
    std::string id = MakeTask("Round " + std::to_string(round), file, "r\n");
    std::string tip = Rev("pipeline/" + id);
    std::string before = Rev("main");
    int delay = delay_ms(rng);
    SCOPED_TRACE("round " + std::to_string(round) + " kill after " + std::to_string(delay) + " ms");

    SpawnOptions so;
    so.argv = {PipelineBin(), "integrate-task", id};
    so.cwd = repo_;
    auto p = Spawn(so);
    ASSERT_TRUE(p.ok()) << p.message();
    usleep(delay * 1000);
    kill(p->pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(p->pid, &status, 0), p->pid);
    usleep(300 * 1000);  // git children the worker started finish on their own

    std::string now = Rev("main");
    if (now != before) {
      EXPECT_EQ(Git({"rev-list", "--parents", "-n", "1", now}), now + " " + before);
      EXPECT_EQ(Git({"rev-parse", now + "^{tree}"}), Git({"rev-parse", tip + "^{tree}"}));
    }

    auto next = Integrate({id});
    ASSERT_EQ(next.exit.exit_code, 0) << next.out << next.err;
    nlohmann::json j = LastLine(next);
    EXPECT_EQ(j["commit"], Rev("main"));
    if (now != before) {
      EXPECT_EQ(j["commit"], now);  // finished, not merged twice
    }
    EXPECT_EQ(Git({"rev-list", "--parents", "-n", "1", "main"}), Rev("main") + " " + before);
    EXPECT_EQ(Git({"rev-parse", "main^{tree}"}), Git({"rev-parse", tip + "^{tree}"}));
    EXPECT_EQ(ReadTextFile(repo_ + "/" + file), "r\n");
    EXPECT_EQ(Status(), "");
    EXPECT_FALSE(PathExists(IntegrateJournalPath(paths_, "main")));
  }
}

}  // namespace
}  // namespace pipeline::testing
