// `pipeline integrate-task` and `pipeline review` driven as a user (or the
// scheduler) would: the built binary on real repositories.
#include "integrate_test_fixture.h"

#include <unistd.h>

#include <thread>

#include "integrate/lock.h"

namespace pipeline::testing {
namespace {

TEST_F(IntegrateCliTest, IntegratesAndPrintsTheCommit) {
  WriteConfig("[verify]\ncommand = [\"sh\", \"-c\", \"test -f feature.txt && test \\\"$PIPELINE_NAMESPACE\\\" = app\"]\n");
  std::string before = Rev("main");
  std::string id = MakeTask("Add the feature", "feature.txt", "x\n");
  auto r = Integrate({id});
  ASSERT_EQ(r.exit.exit_code, 0) << r.out << r.err;
  nlohmann::json j = LastLine(r);
  EXPECT_EQ(j["outcome"], "integrated");
  std::string commit = j["commit"];
  EXPECT_EQ(Rev("main"), commit);
  // Squash by default: one commit on the old base, not the task's own commits.
  EXPECT_EQ(Git({"rev-list", "--parents", "-n", "1", commit}), commit + " " + before);
  EXPECT_EQ(Git({"log", "-1", "--format=%s", commit}), id + ": Add the feature");
  EXPECT_EQ(Git({"log", "-1", "--format=%(trailers:key=Task-Id,valueonly)", commit}), id);
  EXPECT_EQ(ReadTextFile(repo_ + "/feature.txt"), "x\n");
  EXPECT_EQ(Status(), "");
  // The worker leaves the store alone: the scheduler records the outcome.
  Task t = GetTask(id);
  EXPECT_EQ(t.status, TaskStatus::kVerified);
  EXPECT_TRUE(t.comments.empty());
}

TEST_F(IntegrateCliTest, MergeModeFromConfigMergesTheRebuiltBranchNotTheTaskBranch) {
  WriteConfig("[integrate]\nmode = \"merge\"\n");
  std::string before = Rev("main");
  std::string id = MakeTask("One commit", "a.txt", "a\n");
  auto r = Integrate({id});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  std::string commit = LastLine(r)["commit"];
  EXPECT_EQ(Git({"rev-parse", commit + "^1"}), before);
  std::string side = Git({"rev-parse", commit + "^2"});
  EXPECT_NE(side, Rev("pipeline/" + id));  // the branch's own commits stay off the base
  EXPECT_EQ(Git({"rev-list", "--parents", "-n", "1", side}), side + " " + before);
  EXPECT_EQ(Git({"rev-parse", side + "^{tree}"}), Git({"rev-parse", commit + "^{tree}"}));
  EXPECT_EQ(Git({"log", "-1", "--format=%s", commit}), "Merge task " + id + ": One commit");
  EXPECT_EQ(Git({"log", "-1", "--format=%s", side}), id + ": One commit");
  EXPECT_EQ(Git({"log", "-1", "--format=%(trailers:key=Task-Id,valueonly)", commit}), id);
  EXPECT_EQ(Git({"log", "-1", "--format=%(trailers:key=Task-Id,valueonly)", side}), id);
  EXPECT_EQ(Git({"rev-list", "--count", before + ".." + commit}), "2");
}

TEST_F(IntegrateCliTest, ConflictListsFilesAndLeavesBaseUnchanged) {
  std::string id = MakeTask("Edit readme", "README.md", "task\n");
  WriteTextFile(repo_ + "/README.md", "base\n");
  Git({"commit", "-q", "-am", "base edit"});
  std::string before = Rev("main");
  auto r = Integrate({id});
  EXPECT_EQ(r.exit.exit_code, 1);
  nlohmann::json j = LastLine(r);
  EXPECT_EQ(j["outcome"], "conflict");
  EXPECT_EQ(j["files"], nlohmann::json::array({"README.md"}));
  EXPECT_EQ(Rev("main"), before);
}

TEST_F(IntegrateCliTest, FailedCheckLeavesBaseUnchangedWithTheOutputTail) {
  WriteConfig("[verify.domains.app]\ncommand = [\"sh\", \"-c\", \"echo compiling; echo 'error: no main' >&2; exit 1\"]\n");
  std::string before = Rev("main");
  std::string id = MakeTask("Broken", "feature.txt", "x\n");
  auto r = Integrate({id});
  EXPECT_EQ(r.exit.exit_code, 1);
  nlohmann::json j = LastLine(r);
  EXPECT_EQ(j["outcome"], "check-failed");
  std::string tail = j["output_tail"];
  EXPECT_NE(tail.find("compiling"), std::string::npos) << tail;
  EXPECT_NE(tail.find("error: no main"), std::string::npos) << tail;
  EXPECT_EQ(Rev("main"), before);
  EXPECT_FALSE(PathExists(repo_ + "/feature.txt"));
  // --no-check integrates the same task.
  auto unchecked = Integrate({id, "--no-check"});
  EXPECT_EQ(unchecked.exit.exit_code, 0) << unchecked.err;
}

TEST_F(IntegrateCliTest, BaseMovedByTheCheckIsRetriedFromTheNewBase) {
  // The check itself lands another commit on main the first time it runs, so
  // the compare-and-swap fails and the worker starts again from there.
  std::string marker = dir_.path() + "/moved-once";
  WriteConfig("[verify]\ncommand = [\"sh\", \"-c\", \"test -e '" + marker + "' && exit 0; touch '" + marker +
              "'; cd \\\"$PIPELINE_REPO\\\" && echo other > other.txt && git add other.txt && "
              "git commit -q -m other\"]\n");
  std::string id = MakeTask("Feature", "feature.txt", "x\n");
  auto r = Integrate({id});
  ASSERT_EQ(r.exit.exit_code, 0) << r.out << r.err;
  std::string commit = LastLine(r)["commit"];
  EXPECT_EQ(Git({"log", "-1", "--format=%s", commit + "^1"}), "other");
  EXPECT_EQ(Rev("main"), commit);
  EXPECT_EQ(ReadTextFile(repo_ + "/feature.txt"), "x\n");
  EXPECT_EQ(ReadTextFile(repo_ + "/other.txt"), "other\n");
  EXPECT_EQ(Status(), "");
}

TEST_F(IntegrateCliTest, BaseNotCheckedOutAnywhere) {
  Git({"branch", "release"});
  std::string before = Rev("release");
  std::string id = MakeTask("Feature", "feature.txt", "x\n");
  auto r = Integrate({id, "--base", "release"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(Rev("release"), LastLine(r)["commit"].get<std::string>());
  EXPECT_EQ(Rev("main"), before);
  EXPECT_FALSE(PathExists(repo_ + "/feature.txt"));
}

TEST_F(IntegrateCliTest, DirtyCheckoutWaitsAndChangesNothing) {
  std::string id = MakeTask("Feature", "feature.txt", "x\n");
  WriteTextFile(repo_ + "/README.md", "my local edit\n");
  std::string before = Rev("main");
  auto r = Integrate({id});
  EXPECT_EQ(r.exit.exit_code, 75);
  nlohmann::json j = LastLine(r);
  EXPECT_EQ(j["outcome"], "waiting");
  EXPECT_EQ(j["reason"], "base branch main is checked out at " + repo_ + " with uncommitted changes");
  EXPECT_EQ(Rev("main"), before);
  EXPECT_EQ(ReadTextFile(repo_ + "/README.md"), "my local edit\n");
  EXPECT_FALSE(PathExists(repo_ + "/feature.txt"));
}

TEST_F(IntegrateCliTest, SecondWorkerOnTheSameBaseWaits) {
  std::string started = dir_.path() + "/check-started";
  WriteConfig("[verify]\ncommand = [\"sh\", \"-c\", \"touch '" + started + "'; sleep 2\"]\n");
  std::string a = MakeTask("A", "a.txt", "a\n");
  std::string b = MakeTask("B", "b.txt", "b\n");
  CommandResult first;
  std::thread t([&] { first = Integrate({a}); });
  for (int i = 0; i < 400 && !PathExists(started); ++i) usleep(25000);
  ASSERT_TRUE(PathExists(started));
  auto second = Integrate({b});
  t.join();
  EXPECT_EQ(second.exit.exit_code, 75);
  EXPECT_EQ(LastLine(second)["reason"], "another integration into main is running");
  EXPECT_EQ(first.exit.exit_code, 0) << first.err;
  // Waiting for the lock instead succeeds once the first is done.
  auto third = Integrate({b, "--wait", "30", "--no-check"});
  EXPECT_EQ(third.exit.exit_code, 0) << third.err;
}

TEST_F(IntegrateCliTest, BadInputIsRefusedWithAJsonLine) {
  std::string id = MakeTask("Feature", "feature.txt", "x\n");
  std::string before = Rev("main");
  auto mode = Integrate({id, "--mode", "rebase"});
  EXPECT_EQ(mode.exit.exit_code, 2);
  EXPECT_EQ(LastLine(mode)["outcome"], "error");
  EXPECT_NE(mode.err.find("pipeline: unknown integration mode"), std::string::npos) << mode.err;
  auto missing = Integrate({"t-404"});
  EXPECT_EQ(missing.exit.exit_code, 1);
  EXPECT_EQ(LastLine(missing)["outcome"], "error");
  auto no_base = Integrate({id, "--base", "nope"});
  EXPECT_EQ(no_base.exit.exit_code, 1);
  EXPECT_NE(no_base.err.find("pipeline: base branch \"nope\" does not exist"), std::string::npos) << no_base.err;
  auto usage = Integrate({});
  EXPECT_EQ(usage.exit.exit_code, 2);
  EXPECT_EQ(Rev("main"), before);
}

TEST_F(IntegrateCliTest, ReviewApproveAndReject) {
  std::string a = MakeTask("A", "a.txt", "a\n", TaskStatus::kReview);
  std::string b = MakeTask("B", "b.txt", "b\n", TaskStatus::kReview);
  auto ok = RunPipeline({"review", "approve", a}, repo_);
  EXPECT_EQ(ok.exit.exit_code, 0) << ok.err;
  EXPECT_EQ(GetTask(a).status, TaskStatus::kVerified);
  EXPECT_EQ(GetTask(a).comments.back().text, "Approved by human");

  auto rej = RunPipeline({"review", "reject", b, "needs tests", "--json"}, repo_);
  ASSERT_EQ(rej.exit.exit_code, 0) << rej.err;
  Task tb = GetTask(b);
  EXPECT_EQ(tb.status, TaskStatus::kOpen);
  EXPECT_EQ(tb.patchset, 1);
  EXPECT_EQ(tb.feedback.value_or(""), "needs tests");
  EXPECT_EQ(nlohmann::json::parse(rej.out)["taskId"], b);

  // Neither is in review now: both verdicts are refused, nothing changes.
  auto again = RunPipeline({"review", "reject", a, "late"}, repo_);
  EXPECT_EQ(again.exit.exit_code, 1);
  EXPECT_NE(again.err.find("pipeline: cannot reject task " + a + ": it is verified, not review"), std::string::npos)
      << again.err;
  EXPECT_EQ(GetTask(a).status, TaskStatus::kVerified);
  auto approve_open = RunPipeline({"review", "approve", b}, repo_);
  EXPECT_EQ(approve_open.exit.exit_code, 1);
  EXPECT_EQ(GetTask(b).status, TaskStatus::kOpen);
  EXPECT_EQ(RunPipeline({"review", "approve", "t-404"}, repo_).exit.exit_code, 1);
  EXPECT_EQ(RunPipeline({"review", "reject", b}, repo_).exit.exit_code, 2);  // no reason
  EXPECT_EQ(RunPipeline({"review"}, repo_).exit.exit_code, 2);
}

}  // namespace
}  // namespace pipeline::testing
