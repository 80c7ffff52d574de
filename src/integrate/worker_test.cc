// The merge-queue worker against real git repositories: no store needed, the
// Integrator only uses the root for its lock, journal and scratch worktree.
#include "integrate/worker.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "integrate/journal.h"
#include "integrate/lock.h"
#include "testutil/testutil.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline {
namespace {

using testing::InitGitRepo;
using testing::ReadTextFile;
using testing::RunArgv;
using testing::TempDir;
using testing::WriteTextFile;

class IntegratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = dir_.path() + "/repo";
    ASSERT_TRUE(MakeDirs(repo_).ok());
    InitGitRepo(repo_);
    paths_.root = repo_ + "/.pipeline";
    ASSERT_TRUE(MakeDirs(paths_.worktrees_dir()).ok());
    WriteTextFile(repo_ + "/.git/info/exclude", "/.pipeline/\n");
  }

  std::string Git(std::vector<std::string> args, const std::string& dir = "") {
    args.insert(args.begin(), {"git", "-C", dir.empty() ? repo_ : dir});
    auto r = RunArgv(args);
    EXPECT_TRUE(r.ok()) << "git " << args[3] << ": " << r.err;
    return Trim(r.out);
  }
  std::string Rev(const std::string& rev) { return Git({"rev-parse", rev}); }

  // A commit writing path=text on branch (created from `from` when missing),
  // made without touching the main checkout.
  std::string CommitOn(const std::string& branch, const std::string& path, const std::string& text,
                       const std::string& from = "main") {
    std::string wt = dir_.path() + "/wt-" + Slug(branch);
    if (!PathExists(wt)) {
      auto exists = RunArgv({"git", "-C", repo_, "rev-parse", "--verify", "--quiet", "refs/heads/" + branch});
      if (exists.ok()) Git({"worktree", "add", "-q", wt, branch});
      else Git({"worktree", "add", "-q", "-b", branch, wt, from});
    }
    WriteTextFile(wt + "/" + path, text);
    Git({"add", path}, wt);
    Git({"commit", "-q", "-m", "edit " + path}, wt);
    return Git({"rev-parse", "HEAD"}, wt);
  }

  IntegrateRequest Request(const std::string& base = "main") {
    IntegrateRequest req;
    req.task_id = "t-1";
    req.title = "add a file";
    req.base = base;
    return req;
  }

  IntegrateOutcome RunIt(const IntegrateRequest& req, const IntegrateHooks& hooks = {}) {
    pipeline::Git git(RealProcessRunner(), repo_);
    Integrator in(git, RealProcessRunner(), paths_);
    return in.Run(req, hooks);
  }

  TempDir dir_;
  std::string repo_;
  RootPaths paths_;
};

TEST_F(IntegratorTest, MergesIntoACheckedOutCleanBaseAndUpdatesItsFiles) {
  std::string before = Rev("main");
  std::string tip = CommitOn("pipeline/t-1", "feature.txt", "new feature\n");
  IntegrateOutcome o = RunIt(Request());
  ASSERT_EQ(o.kind, IntegrateOutcome::Kind::kIntegrated) << o.ToJson().dump();
  EXPECT_FALSE(o.already);
  EXPECT_EQ(Rev("main"), o.commit);
  // Squash by default: the base gets one new commit holding the branch's tree.
  EXPECT_EQ(Git({"rev-list", "--parents", "-n", "1", o.commit}), o.commit + " " + before);
  EXPECT_EQ(Git({"rev-parse", o.commit + "^{tree}"}), Git({"rev-parse", tip + "^{tree}"}));
  std::string msg = Git({"log", "-1", "--format=%B", o.commit});
  EXPECT_TRUE(StartsWith(msg, "t-1: add a file")) << msg;
  EXPECT_EQ(Git({"log", "-1", "--format=%(trailers:key=Task-Id,valueonly)", o.commit}), "t-1");
  // The person's checkout followed: file present, nothing looks modified.
  EXPECT_EQ(ReadTextFile(repo_ + "/feature.txt"), "new feature\n");
  EXPECT_EQ(Git({"status", "--porcelain", "--untracked-files=no"}), "");
  EXPECT_FALSE(PathExists(IntegrateJournalPath(paths_, "main")));
  EXPECT_EQ(o.ExitCode(), 0);
}

TEST_F(IntegratorTest, SecondRunSaysAlreadyIntegrated) {
  CommitOn("pipeline/t-1", "feature.txt", "x\n");
  IntegrateOutcome first = RunIt(Request());
  ASSERT_EQ(first.kind, IntegrateOutcome::Kind::kIntegrated);
  IntegrateOutcome again = RunIt(Request());
  ASSERT_EQ(again.kind, IntegrateOutcome::Kind::kIntegrated);
  EXPECT_TRUE(again.already);
  EXPECT_EQ(again.commit, first.commit);
  EXPECT_EQ(Rev("main"), first.commit);
}

TEST_F(IntegratorTest, SquashMakesOneParentAndIsIdempotent) {
  std::string before = Rev("main");
  CommitOn("pipeline/t-1", "a.txt", "a\n");
  CommitOn("pipeline/t-1", "b.txt", "b\n");
  IntegrateRequest req = Request();
  req.mode = "squash";
  IntegrateOutcome o = RunIt(req);
  ASSERT_EQ(o.kind, IntegrateOutcome::Kind::kIntegrated) << o.ToJson().dump();
  EXPECT_EQ(Git({"rev-list", "--count", before + ".." + o.commit}), "1");
  EXPECT_EQ(Git({"rev-list", "--parents", "-n", "1", o.commit}), o.commit + " " + before);
  EXPECT_EQ(ReadTextFile(repo_ + "/b.txt"), "b\n");
  // The branch is not an ancestor, but its content is in: nothing to add.
  IntegrateOutcome again = RunIt(req);
  ASSERT_EQ(again.kind, IntegrateOutcome::Kind::kIntegrated);
  EXPECT_TRUE(again.already);
  EXPECT_EQ(Rev("main"), o.commit);
}

TEST_F(IntegratorTest, MergeModeMergesOneRebuiltCommitAndIsIdempotent) {
  std::string before = Rev("main");
  CommitOn("pipeline/t-1", "a.txt", "broken\n");
  std::string tip = CommitOn("pipeline/t-1", "a.txt", "fixed\n");
  IntegrateRequest req = Request();
  req.mode = "merge";
  IntegrateOutcome o = RunIt(req);
  ASSERT_EQ(o.kind, IntegrateOutcome::Kind::kIntegrated) << o.ToJson().dump();
  EXPECT_EQ(Git({"rev-parse", o.commit + "^1"}), before);
  std::string side = Git({"rev-parse", o.commit + "^2"});
  EXPECT_EQ(Git({"rev-list", "--parents", "-n", "1", side}), side + " " + before);
  // Two new commits, both with the final tree; the "broken" commit is not among them.
  EXPECT_EQ(Git({"rev-list", "--count", before + ".." + o.commit}), "2");
  EXPECT_FALSE(RunArgv({"git", "-C", repo_, "merge-base", "--is-ancestor", tip, o.commit}).ok());
  EXPECT_EQ(Git({"rev-parse", side + "^{tree}"}), Git({"rev-parse", o.commit + "^{tree}"}));
  EXPECT_TRUE(StartsWith(Git({"log", "-1", "--format=%s", o.commit}), "Merge task t-1:"));
  IntegrateOutcome again = RunIt(req);
  ASSERT_EQ(again.kind, IntegrateOutcome::Kind::kIntegrated);
  EXPECT_TRUE(again.already);
}

TEST_F(IntegratorTest, ABranchWithoutCommitsOfItsOwnIsNeverASuccess) {
  std::string before = Rev("main");
  Git({"branch", "pipeline/t-1"});  // the task branch, left where it started
  IntegrateOutcome o = RunIt(Request());
  EXPECT_EQ(o.kind, IntegrateOutcome::Kind::kEmpty) << o.ToJson().dump();
  EXPECT_EQ(o.ToJson()["outcome"], "empty");
  EXPECT_NE(o.reason.find("pipeline/t-1"), std::string::npos) << o.reason;
  EXPECT_EQ(o.ExitCode(), 1);
  EXPECT_EQ(Rev("main"), before);
}

TEST_F(IntegratorTest, BaseNotCheckedOutMovesByRefOnly) {
  Git({"branch", "release"});
  std::string before = Rev("release");
  CommitOn("pipeline/t-1", "feature.txt", "x\n", "release");
  IntegrateOutcome o = RunIt(Request("release"));
  ASSERT_EQ(o.kind, IntegrateOutcome::Kind::kIntegrated) << o.ToJson().dump();
  EXPECT_EQ(Rev("release"), o.commit);
  EXPECT_EQ(Git({"rev-parse", o.commit + "^1"}), before);
  EXPECT_EQ(Rev("main"), before);  // the checkout on main is untouched
  EXPECT_FALSE(PathExists(repo_ + "/feature.txt"));
}

TEST_F(IntegratorTest, ConflictListsFilesAndLeavesBaseAlone) {
  CommitOn("pipeline/t-1", "README.md", "task version\n");
  WriteTextFile(repo_ + "/README.md", "base version\n");
  Git({"commit", "-q", "-am", "base edit"});
  std::string before = Rev("main");
  IntegrateOutcome o = RunIt(Request());
  ASSERT_EQ(o.kind, IntegrateOutcome::Kind::kConflict) << o.ToJson().dump();
  EXPECT_EQ(o.files, std::vector<std::string>{"README.md"});
  EXPECT_EQ(o.ExitCode(), 1);
  EXPECT_EQ(Rev("main"), before);
  EXPECT_EQ(ReadTextFile(repo_ + "/README.md"), "base version\n");
}

TEST_F(IntegratorTest, FailedCheckLeavesBaseAloneAndReportsTheTail) {
  CommitOn("pipeline/t-1", "feature.txt", "x\n");
  std::string before = Rev("main");
  IntegrateRequest req = Request();
  // The check sees the merge result: feature.txt is there.
  req.check = VerifyCommand{{"sh", "-c", "cat feature.txt; echo broken build >&2; exit 3"}, 30};
  IntegrateOutcome o = RunIt(req);
  ASSERT_EQ(o.kind, IntegrateOutcome::Kind::kCheckFailed) << o.ToJson().dump();
  EXPECT_NE(o.output_tail.find("x\n"), std::string::npos) << o.output_tail;
  EXPECT_NE(o.output_tail.find("broken build"), std::string::npos) << o.output_tail;
  EXPECT_NE(o.output_tail.find("exited with code 3"), std::string::npos) << o.output_tail;
  EXPECT_FALSE(o.timed_out);
  EXPECT_EQ(Rev("main"), before);
  EXPECT_FALSE(PathExists(repo_ + "/feature.txt"));
}

TEST_F(IntegratorTest, PassingCheckRunsOnTheMergeCommit) {
  CommitOn("pipeline/t-1", "feature.txt", "x\n");
  IntegrateRequest req = Request();
  std::string seen = dir_.path() + "/seen";
  req.check = VerifyCommand{{"sh", "-c", "test -f feature.txt && git rev-parse HEAD > \"$SEEN\""}, 30};
  req.check_env = {{"SEEN", seen}};
  IntegrateOutcome o = RunIt(req);
  ASSERT_EQ(o.kind, IntegrateOutcome::Kind::kIntegrated) << o.ToJson().dump();
  EXPECT_EQ(Trim(ReadTextFile(seen)), o.commit);
}

TEST_F(IntegratorTest, CheckTimeoutFails) {
  CommitOn("pipeline/t-1", "feature.txt", "x\n");
  IntegrateRequest req = Request();
  req.check = VerifyCommand{{"sleep", "30"}, 1};
  std::string before = Rev("main");
  IntegrateOutcome o = RunIt(req);
  ASSERT_EQ(o.kind, IntegrateOutcome::Kind::kCheckFailed);
  EXPECT_TRUE(o.timed_out);
  EXPECT_EQ(Rev("main"), before);
}

TEST_F(IntegratorTest, DirtyCheckoutWaitsAndChangesNothing) {
  CommitOn("pipeline/t-1", "feature.txt", "x\n");
  WriteTextFile(repo_ + "/README.md", "local edit\n");
  std::string before = Rev("main");
  IntegrateOutcome o = RunIt(Request());
  ASSERT_EQ(o.kind, IntegrateOutcome::Kind::kWaiting) << o.ToJson().dump();
  EXPECT_NE(o.reason.find("uncommitted changes"), std::string::npos) << o.reason;
  EXPECT_NE(o.reason.find(repo_), std::string::npos) << o.reason;
  EXPECT_EQ(o.ExitCode(), kExitWaiting);
  EXPECT_EQ(Rev("main"), before);
  EXPECT_EQ(ReadTextFile(repo_ + "/README.md"), "local edit\n");
  EXPECT_FALSE(PathExists(repo_ + "/feature.txt"));
}

TEST_F(IntegratorTest, BaseMovingDuringTheCheckIsRetriedFromTheNewBase) {
  CommitOn("pipeline/t-1", "feature.txt", "x\n");
  std::string moved;
  IntegrateHooks hooks;
  hooks.before_advance = [&](int attempt) {
    if (attempt == 0) {
      // Someone else lands a commit on main meanwhile (in the checkout).
      WriteTextFile(repo_ + "/other.txt", "other\n");
      Git({"add", "other.txt"});
      Git({"commit", "-q", "-m", "other work"});
      moved = Rev("main");
    }
  };
  IntegrateOutcome o = RunIt(Request(), hooks);
  ASSERT_EQ(o.kind, IntegrateOutcome::Kind::kIntegrated) << o.ToJson().dump();
  EXPECT_EQ(Git({"rev-parse", o.commit + "^1"}), moved);  // built on the new base
  EXPECT_EQ(Rev("main"), o.commit);
  EXPECT_EQ(ReadTextFile(repo_ + "/other.txt"), "other\n");
  EXPECT_EQ(ReadTextFile(repo_ + "/feature.txt"), "x\n");
}

TEST_F(IntegratorTest, BaseThatKeepsMovingGivesUp) {
  Git({"branch", "release"});
  CommitOn("pipeline/t-1", "feature.txt", "x\n", "release");
  int n = 0;
  IntegrateHooks hooks;
  hooks.before_advance = [&](int) { CommitOn("release", "n.txt", std::to_string(++n) + "\n"); };
  IntegrateOutcome o = RunIt(Request("release"), hooks);
  EXPECT_EQ(o.kind, IntegrateOutcome::Kind::kBaseMoved) << o.ToJson().dump();
  EXPECT_EQ(n, kIntegrateRetries + 1);
  // Only the other writer's commits are on release.
  EXPECT_EQ(Git({"show", "release:n.txt"}), std::to_string(n));
  EXPECT_NE(RunArgv({"git", "-C", repo_, "merge-base", "--is-ancestor", "pipeline/t-1", "release"}).exit.exit_code, 0);
}

TEST_F(IntegratorTest, AnotherIntegrationOfTheSameBaseMeansWaiting) {
  CommitOn("pipeline/t-1", "feature.txt", "x\n");
  auto held = IntegrateLock::Acquire(IntegrateLockPath(paths_, "main"), 0);
  ASSERT_TRUE(held.ok() && held->has_value());
  std::string before = Rev("main");
  IntegrateOutcome o = RunIt(Request());
  EXPECT_EQ(o.kind, IntegrateOutcome::Kind::kWaiting);
  EXPECT_EQ(Rev("main"), before);
  held->reset();
  EXPECT_EQ(RunIt(Request()).kind, IntegrateOutcome::Kind::kIntegrated);
}

// A stop between the ref update and the checkout update (a crash, simulated
// by an exception out of the hook) leaves HEAD at the new commit and the
// files at the old one; the next run repairs the checkout first.
TEST_F(IntegratorTest, InterruptedAdvanceIsRepairedByTheNextRun) {
  std::string before = Rev("main");
  CommitOn("pipeline/t-1", "feature.txt", "x\n");
  IntegrateHooks hooks;
  hooks.after_ref = [] { throw std::runtime_error("killed"); };
  EXPECT_THROW(RunIt(Request(), hooks), std::runtime_error);
  std::string after = Rev("main");
  ASSERT_NE(after, before);
  EXPECT_FALSE(PathExists(repo_ + "/feature.txt"));  // the files lag
  auto journal = ReadJournal(IntegrateJournalPath(paths_, "main"));
  ASSERT_TRUE(journal.ok() && journal->has_value());
  EXPECT_EQ((*journal)->old_sha, before);
  EXPECT_EQ((*journal)->new_sha, after);

  IntegrateOutcome o = RunIt(Request());
  ASSERT_EQ(o.kind, IntegrateOutcome::Kind::kIntegrated) << o.ToJson().dump();
  EXPECT_TRUE(o.already);
  EXPECT_EQ(o.commit, after);
  EXPECT_EQ(ReadTextFile(repo_ + "/feature.txt"), "x\n");
  EXPECT_EQ(Git({"status", "--porcelain", "--untracked-files=no"}), "");
  EXPECT_FALSE(PathExists(IntegrateJournalPath(paths_, "main")));
}

TEST_F(IntegratorTest, JournalOfASwapThatNeverHappenedIsDropped) {
  std::string before = Rev("main");
  ASSERT_TRUE(WriteJournal(IntegrateJournalPath(paths_, "main"),
                           {"t-9", "main", before, std::string(40, 'a'), repo_})
                  .ok());
  CommitOn("pipeline/t-1", "feature.txt", "x\n");
  IntegrateOutcome o = RunIt(Request());
  ASSERT_EQ(o.kind, IntegrateOutcome::Kind::kIntegrated) << o.ToJson().dump();
  EXPECT_FALSE(PathExists(IntegrateJournalPath(paths_, "main")));
}

TEST_F(IntegratorTest, BadRequestsAreErrors) {
  IntegrateRequest req = Request();
  req.mode = "rebase";
  EXPECT_EQ(RunIt(req).ExitCode(), 2);
  req = Request();
  req.task_id = "../x";
  EXPECT_EQ(RunIt(req).ExitCode(), 2);
  IntegrateOutcome no_branch = RunIt(Request());
  EXPECT_EQ(no_branch.kind, IntegrateOutcome::Kind::kError);
  EXPECT_NE(no_branch.reason.find("pipeline/t-1"), std::string::npos) << no_branch.reason;
  CommitOn("pipeline/t-1", "feature.txt", "x\n");
  IntegrateOutcome no_base = RunIt(Request("nope"));
  EXPECT_EQ(no_base.kind, IntegrateOutcome::Kind::kError);
  EXPECT_EQ(no_base.ToJson()["outcome"], "error");
}

}  // namespace
}  // namespace pipeline
