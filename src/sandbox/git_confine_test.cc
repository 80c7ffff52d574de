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

TEST(GitConfineTest, TheBranchTipIsReadFromLooseAndPackedRefs) {
  testing::TempDir dir;
  std::string repo = dir / "repo", ws = dir / "ws";
  ASSERT_TRUE(MakeDirs(repo).ok());
  testing::InitGitRepo(repo);
  Git(repo, {"worktree", "add", "-q", "-b", "pipeline/t-1", ws, "main"});
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

}  // namespace
}  // namespace pipeline
