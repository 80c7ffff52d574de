#include "sandbox/git_confine.h"

#include <gtest/gtest.h>

#include "testutil/testutil.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline {
namespace {

std::string Git(const std::string& repo, std::vector<std::string> args) {
  args.insert(args.begin(), {"git", "-C", repo});
  auto r = testing::RunArgv(args);
  EXPECT_TRUE(r.ok()) << r.err;
  return Trim(r.out);
}

// A repository with a task worktree on branch pipeline/t-1.
class GitConfineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MakeDirs(repo).ok());
    testing::InitGitRepo(repo);
    Git(repo, {"worktree", "add", "-q", "-b", "pipeline/t-1", ws, "main"});
  }
  testing::TempDir dir;
  std::string repo = dir / "repo", ws = dir / "ws";
};

TEST_F(GitConfineTest, TheBranchTipIsReadFromLooseAndPackedRefs) {
  std::string tip = Git(repo, {"rev-parse", "refs/heads/pipeline/t-1"});

  auto loose = PrepareGitConfinement(ws, dir / "private-1");
  ASSERT_TRUE(loose.ok()) << loose.message();
  ASSERT_TRUE(loose->has_value());
  EXPECT_EQ((*loose)->branch_ref, "refs/heads/pipeline/t-1");
  EXPECT_EQ((*loose)->branch_before, tip);
  EXPECT_EQ(Trim(testing::ReadTextFile(dir / "private-1/git-heads/pipeline/t-1")), tip);

  Git(repo, {"pack-refs", "--all"});
  ASSERT_FALSE(PathExists(repo + "/.git/refs/heads/pipeline/t-1"));
  auto packed = PrepareGitConfinement(ws, dir / "private-2");
  ASSERT_TRUE(packed.ok()) << packed.message();
  EXPECT_EQ((*packed)->branch_before, tip);
  // The run's own branch is in its copy even when only packed-refs holds it.
  EXPECT_EQ(Trim(testing::ReadTextFile(dir / "private-2/git-heads/pipeline/t-1")), tip);

  // An unborn branch has no value.
  testing::WriteTextFile(repo + "/.git/worktrees/ws/HEAD", "ref: refs/heads/pipeline/unborn\n");
  auto unborn = PrepareGitConfinement(ws, dir / "private-3");
  ASSERT_TRUE(unborn.ok()) << unborn.message();
  EXPECT_EQ((*unborn)->branch_ref, "refs/heads/pipeline/unborn");
  EXPECT_FALSE((*unborn)->branch_before.has_value());
}

// A spare private directory comes with an older copy of the refs: the start
// brings it to exactly the repository's, whatever moved, appeared or went.
TEST_F(GitConfineTest, AnOlderCopyOfTheRefsIsBroughtUpToDate) {
  std::string priv = dir / "private";
  Git(repo, {"branch", "pipeline/gone"});
  ASSERT_TRUE(CopyBranchRefs(repo + "/.git", priv + "/git-heads").ok());
  ASSERT_TRUE(PathExists(priv + "/git-heads/pipeline/gone"));

  Git(ws, {"commit", "-q", "--allow-empty", "-m", "the task branch moved"});
  Git(repo, {"branch", "-D", "pipeline/gone"});
  Git(repo, {"branch", "pipeline/new"});
  testing::WriteTextFile(priv + "/git-heads/stray", "not a ref of the repository\n");
  auto g = PrepareGitConfinement(ws, priv);
  ASSERT_TRUE(g.ok() && g->has_value()) << g.message();
  for (const char* b : {"main", "pipeline/t-1", "pipeline/new"})
    EXPECT_EQ(Trim(testing::ReadTextFile(priv + "/git-heads/" + b)), Git(repo, {"rev-parse", b})) << b;
  EXPECT_FALSE(PathExists(priv + "/git-heads/pipeline/gone"));
  EXPECT_FALSE(PathExists(priv + "/git-heads/stray"));
}

// A confined run takes HEAD's commit from its confinement instead of running
// git: the answer must be git's own, on a branch and detached.
TEST_F(GitConfineTest, TheHeadCommitIsWhatGitSays) {
  Git(ws, {"commit", "-q", "--allow-empty", "-m", "on the task branch"});

  auto on_branch = PrepareGitConfinement(ws, dir / "private-1");
  ASSERT_TRUE(on_branch.ok() && on_branch->has_value()) << on_branch.message();
  EXPECT_EQ(HeadCommitBefore(**on_branch), Git(ws, {"rev-parse", "--verify", "HEAD"}));

  std::string first = Git(repo, {"rev-parse", "main"});
  Git(ws, {"checkout", "-q", "--detach", first});
  auto detached = PrepareGitConfinement(ws, dir / "private-2");
  ASSERT_TRUE(detached.ok() && detached->has_value()) << detached.message();
  EXPECT_TRUE((*detached)->branch_ref.empty());
  EXPECT_EQ(HeadCommitBefore(**detached), first);

  // The main checkout keeps its HEAD in .git itself.
  auto main_checkout = PrepareGitConfinement(repo, dir / "private-3");
  ASSERT_TRUE(main_checkout.ok() && main_checkout->has_value()) << main_checkout.message();
  EXPECT_EQ(HeadCommitBefore(**main_checkout), Git(repo, {"rev-parse", "--verify", "HEAD"}));

  // Unborn: git has no answer, and neither do the files.
  testing::WriteTextFile(repo + "/.git/worktrees/ws/HEAD", "ref: refs/heads/pipeline/unborn\n");
  auto unborn = PrepareGitConfinement(ws, dir / "private-4");
  ASSERT_TRUE(unborn.ok() && unborn->has_value()) << unborn.message();
  EXPECT_FALSE(HeadCommitBefore(**unborn).has_value());
}

}  // namespace
}  // namespace pipeline
