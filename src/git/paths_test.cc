#include "git/paths.h"

#include <gtest/gtest.h>

#include <string>

namespace pipeline {
namespace {

TEST(PathsTest, AcceptsOrdinaryIds) {
  for (const char* id : {"a", "T-12", "abc_def.2", "x-y.z_9", "0"}) {
    EXPECT_TRUE(ValidateTaskIdForPath(id).ok()) << id;
  }
  EXPECT_TRUE(ValidateTaskIdForPath(std::string(64, 'a')).ok());
}

TEST(PathsTest, RejectsHostileIds) {
  const std::string hostile[] = {"",         "../x",  "a/b",   "$(rm -rf)", "a\nb",       "x.lock",
                                 ".",        "..",    "a..b",  "x.",        ".hidden",    "-rf",
                                 "a b",      "a\\b",  "a~1",   "a^",        "a:b",        "a@{1}",
                                 "a*",       "a?",    "a[b",   "é",         std::string(65, 'a'),
                                 std::string("a\0b", 3)};
  for (const auto& id : hostile) {
    Status st = ValidateTaskIdForPath(id);
    ASSERT_FALSE(st.ok()) << "accepted " << id;
    EXPECT_EQ(st.kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(st.message().find('\n'), std::string::npos) << "error is not one line: " << st.message();
    EXPECT_NE(st.message().find("invalid task id"), std::string::npos);
  }
}

TEST(PathsTest, ErrorsSayWhy) {
  EXPECT_NE(ValidateTaskIdForPath("").message().find("empty"), std::string::npos);
  EXPECT_NE(ValidateTaskIdForPath(std::string(65, 'a')).message().find("longer than 64"), std::string::npos);
  EXPECT_NE(ValidateTaskIdForPath("x.lock").message().find(".lock"), std::string::npos);
  EXPECT_NE(ValidateTaskIdForPath("a\nb").message().find("\\n"), std::string::npos);
}

TEST(PathsTest, TaskBranch) {
  auto b = TaskBranch("T-1");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, "pipeline/T-1");
  EXPECT_FALSE(TaskBranch("../main").ok());
  EXPECT_EQ(TaskBranch("a/b").kind(), ErrorKind::kInvalidArgument);
}

TEST(PathsTest, TaskIdFromBranchInvertsTaskBranch) {
  EXPECT_EQ(TaskIdFromBranch("pipeline/T-1"), "T-1");
  EXPECT_EQ(TaskIdFromBranch("refs/heads/pipeline/T-1"), "T-1");
  EXPECT_EQ(TaskIdFromBranch("main"), std::nullopt);
  EXPECT_EQ(TaskIdFromBranch("pipeline/a/b"), std::nullopt);
  EXPECT_EQ(TaskIdFromBranch("pipeline/"), std::nullopt);
}

TEST(PathsTest, TaskWorktreePathStaysInside) {
  RootPaths root{"/srv/repo/.pipeline"};
  auto p = TaskWorktreePath(root, "T-7");
  ASSERT_TRUE(p.ok()) << p.message();
  EXPECT_EQ(*p, "/srv/repo/.pipeline/worktrees/T-7");
  for (const char* bad : {"..", "../x", "a/../../b", "", "/etc"}) {
    EXPECT_FALSE(TaskWorktreePath(root, bad).ok()) << bad;
  }
}

TEST(PathsTest, ArchiveRefsRoundTrip) {
  EXPECT_EQ(*ArchiveRef("t-1", 1), "refs/pipeline/archive/t-1/1");
  EXPECT_EQ(*ArchiveRef("T.2", 12), "refs/pipeline/archive/T.2/12");
  EXPECT_EQ(*TaskArchivePrefix("t-1"), "refs/pipeline/archive/t-1/");
  EXPECT_EQ(ArchiveRef("t-1", 0).kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(ArchiveRef("../x", 1).kind(), ErrorKind::kInvalidArgument);
  auto parsed = ParseArchiveRef("refs/pipeline/archive/t-1/12");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->task_id, "t-1");
  EXPECT_EQ(parsed->n, 12);
  for (const char* bad : {"refs/pipeline/archive/t-1", "refs/pipeline/archive/t-1/0", "refs/pipeline/archive/t-1/01",
                          "refs/pipeline/archive/t-1/x", "refs/pipeline/archive/../x/1", "refs/heads/t-1/1",
                          "refs/pipeline/archive/a/b/1", "refs/pipeline/archive/t-1/1234567890"}) {
    EXPECT_FALSE(ParseArchiveRef(bad).has_value()) << bad;
  }
}

TEST(PathsTest, VerifyCheckoutSitsBesideTheTaskWorktree) {
  RootPaths paths;
  paths.root = "/r/.pipeline";
  auto dir = VerifyCheckoutPath(paths, "t-1");
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(*dir, paths.worktrees_dir() + "/_verify-t-1");
  EXPECT_FALSE(ValidateTaskIdForPath("_verify-t-1").ok());  // never mistaken for a task's worktree
  EXPECT_EQ(VerifyCheckoutPath(paths, "../t").kind(), ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace pipeline
