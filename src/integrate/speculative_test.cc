#include "integrate/speculative.h"

#include <gtest/gtest.h>

#include "integrate/integrate_testing.h"

namespace pipeline {
namespace {


class SpeculativeBatchTest : public integrate_testing::GitRepoTest {
 protected:
  std::string Branch(const std::string& name, const std::string& file, const std::string& text) {
    return CommitOnBranch(name, file, text, name);
  }
};

TEST_F(SpeculativeBatchTest, HeadsStackTheChangesInOrderAndLeaveOutAConflict) {
  std::string a = Branch("a", "a.txt", "a\n");
  std::string b = Branch("b", "shared.txt", "from b\n");
  std::string c = Branch("c", "shared.txt", "from c\n");  // conflicts with b
  std::string d = Branch("d", "d.txt", "d\n");
  std::string base = Sh({"rev-parse", "main"});
  auto batch = BuildSpeculativeBatch(*git_, "main", {{"t-a", "A", a}, {"t-b", "B", b}, {"t-c", "C", c}, {"t-d", "D", d}},
                                     "squash", [](const QueuedChange& q) { return q.task_id + ": " + q.title; });
  ASSERT_TRUE(batch.ok()) << batch.message();
  EXPECT_EQ(batch->base, base);
  ASSERT_EQ(batch->heads.size(), 3u);
  EXPECT_EQ(batch->heads[0].task_id, "t-a");
  EXPECT_EQ(batch->heads[1].task_id, "t-b");
  EXPECT_EQ(batch->heads[2].task_id, "t-d");
  ASSERT_EQ(batch->conflicted.size(), 1u);
  EXPECT_EQ(batch->conflicted[0].task_id, "t-c");
  EXPECT_NE(batch->conflicted[0].why.find("shared.txt"), std::string::npos);
  // Each head is the one before plus one change: a linear chain on the base.
  EXPECT_EQ(Sh({"rev-parse", batch->Prefix(1) + "^"}), base);
  EXPECT_EQ(Sh({"rev-parse", batch->Prefix(3) + "^"}), batch->Prefix(2));
  EXPECT_EQ(Sh({"show", batch->Prefix(3) + ":shared.txt"}), "from b");
  EXPECT_EQ(Sh({"show", batch->Prefix(3) + ":a.txt"}), "a");
  EXPECT_EQ(Sh({"log", "-1", "--format=%s", batch->Prefix(2)}), "t-b: B");
  // Nothing moved: main is where it was and no checkout changed.
  EXPECT_EQ(Sh({"rev-parse", "main"}), base);
  EXPECT_EQ(Sh({"status", "--porcelain"}), "");
}

TEST_F(SpeculativeBatchTest, AMissingCommitEndsTheBatchWithAnError) {
  std::string a = Branch("a", "a.txt", "a\n");
  auto batch = BuildSpeculativeBatch(*git_, "main", {{"t-a", "A", a}, {"t-x", "X", std::string(40, 'f')}}, "merge",
                                     [](const QueuedChange& q) { return q.task_id; });
  EXPECT_FALSE(batch.ok());
}

}  // namespace
}  // namespace pipeline
