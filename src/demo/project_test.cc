// The sample project and the backlog's scripted changes, checked with the
// project's own tests and real git: the first commit passes, the finished
// backlog passes, the buggy first patchset fails, and the conflict pair
// really conflicts until one is redone on the new base.
#include <gtest/gtest.h>

#include <set>

#include "demo/backlog.h"
#include "demo/project.h"
#include "testutil/testutil.h"

namespace pipeline::demo {
namespace {

using pipeline::testing::RunArgv;
using pipeline::testing::TempDir;

bool ProjectTestsPass(const std::string& dir, std::string* output = nullptr) {
  auto r = RunArgv({"sh", "tests/run.sh"}, dir);
  if (output) *output = r.out + r.err;
  return r.ok();
}

std::string Git(const std::string& dir, const std::vector<std::string>& args) {
  auto r = RunGit(RealProcessRunner(), dir, args);
  EXPECT_TRUE(r.ok()) << r.message();
  return r.ok() ? *r : "";
}

void Commit(const std::string& dir, const std::string& msg) {
  Git(dir, {"add", "-A"});
  Git(dir, {"commit", "-q", "-m", msg});
}

TEST(DemoProject, FirstCommitPassesItsTests) {
  TempDir t;
  ASSERT_TRUE(CreateDemoProject(RealProcessRunner(), t.path()).ok());
  std::string out;
  EXPECT_TRUE(ProjectTestsPass(t.path(), &out)) << out;
  EXPECT_NE(out.find("1 test files, 0 failed"), std::string::npos) << out;
  EXPECT_EQ(Git(t.path(), {"rev-list", "--count", "HEAD"}), "1");
  EXPECT_EQ(Git(t.path(), {"status", "--porcelain"}), "");
  EXPECT_EQ(Git(t.path(), {"rev-parse", "--abbrev-ref", "HEAD"}), kDemoBaseBranch);
}

TEST(DemoProject, RefusesAMissingDirectory) {
  TempDir t;
  Status s = CreateDemoProject(RealProcessRunner(), t / "absent");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.kind(), ErrorKind::kNotFound);
}

TEST(DemoBacklog, ShapeHasEveryScenarioOnce) {
  const auto& b = DemoBacklog();
  EXPECT_GE(b.size(), 9u);
  std::set<std::string> seen, domains;
  std::map<DemoRole, int> roles;
  std::vector<std::string> pair_domains;
  for (const auto& t : b) {
    for (const auto& d : t.deps) EXPECT_TRUE(seen.count(d)) << t.key << " depends on later or unknown " << d;
    EXPECT_TRUE(seen.insert(t.key).second) << "duplicate key " << t.key;
    domains.insert(t.ns);
    ++roles[t.role];
    if (t.role == DemoRole::kConflictPair) pair_domains.push_back(t.ns);
    EXPECT_GT(t.cost_cents, 0) << t.key;
    EXPECT_LT(t.cost_cents, kDemoReserveCents) << t.key << " would outspend its hold";
    EXPECT_LT(t.retry_cost_cents, kDemoReserveCents) << t.key;
    EXPECT_EQ(FindDemoTask(t.key), &t);
    EXPECT_NE(DemoDescription(t).find(DemoMarker(t.key)), std::string::npos);
  }
  EXPECT_EQ(domains.size(), 3u);
  EXPECT_EQ(roles[DemoRole::kFailsVerifyOnce], 1);
  EXPECT_EQ(roles[DemoRole::kAsksQuestion], 1);
  ASSERT_EQ(pair_domains.size(), 2u);
  EXPECT_NE(pair_domains[0], pair_domains[1]) << "the conflict pair must run in parallel, in two domains";
  for (const auto& d : DemoBudgets()) EXPECT_TRUE(domains.count(d.domain)) << d.domain;
}

TEST(DemoBacklog, DocsBudgetRunsShortBeforeTheLastDocsTask) {
  int64_t budget = 0;
  for (const auto& b : DemoBudgets())
    if (b.domain == "docs") budget = b.cents;
  std::vector<const DemoTaskSpec*> docs;
  for (const auto& t : DemoBacklog())
    if (t.ns == "docs") docs.push_back(&t);
  ASSERT_GE(docs.size(), 2u);
  int64_t spent = 0;
  for (size_t i = 0; i + 1 < docs.size(); ++i) {
    EXPECT_GE(budget - spent, kDemoReserveCents) << docs[i]->key << " should still find room for its hold";
    spent += docs[i]->cost_cents;
  }
  // The last one does not, until the person grants more.
  EXPECT_LT(budget - spent, kDemoReserveCents);
  EXPECT_GE(budget - spent + kDemoTopUpCents, kDemoReserveCents);
}

TEST(DemoBacklog, FinishedBacklogPassesAndTheBuggyPatchsetFails) {
  TempDir t;
  ASSERT_TRUE(CreateDemoProject(RealProcessRunner(), t.path()).ok());
  for (const auto& spec : DemoBacklog()) {
    if (spec.role == DemoRole::kFailsVerifyOnce) {
      ASSERT_TRUE(ApplyOps(t.path(), spec.buggy_ops).ok());
      std::string out;
      EXPECT_FALSE(ProjectTestsPass(t.path(), &out)) << "the buggy patchset of " << spec.key << " passed:\n" << out;
      EXPECT_NE(out.find("FAIL"), std::string::npos);
      ASSERT_TRUE(ApplyOps(t.path(), spec.fix_ops).ok());
    } else {
      ASSERT_TRUE(ApplyOps(t.path(), spec.ops).ok()) << spec.key;
    }
    std::string out;
    EXPECT_TRUE(ProjectTestsPass(t.path(), &out)) << "after " << spec.key << ":\n" << out;
  }
  std::string out;
  ASSERT_TRUE(ProjectTestsPass(t.path(), &out));
  EXPECT_NE(out.find("0 failed"), std::string::npos);
}

TEST(DemoBacklog, ConflictPairConflictsUntilRedoneOnTheNewBase) {
  TempDir t;
  const std::string d = t.path();
  ASSERT_TRUE(CreateDemoProject(RealProcessRunner(), d).ok());
  std::vector<const DemoTaskSpec*> pair;
  for (const auto& s : DemoBacklog())
    if (s.role == DemoRole::kConflictPair) pair.push_back(&s);
  ASSERT_EQ(pair.size(), 2u);
  std::string base = Git(d, {"rev-parse", "HEAD"});
  Git(d, {"checkout", "-q", "-b", "a"});
  ASSERT_TRUE(ApplyOps(d, pair[0]->ops).ok());
  Commit(d, "a");
  Git(d, {"checkout", "-q", "-b", "b", base});
  ASSERT_TRUE(ApplyOps(d, pair[1]->ops).ok());
  Commit(d, "b");
  Git(d, {"checkout", "-q", kDemoBaseBranch});
  Git(d, {"merge", "-q", "--ff-only", "a"});
  // b, made from the old base, does not merge.
  auto merge = RunArgv({"git", "-C", d, "merge-tree", "--write-tree", kDemoBaseBranch, "b"});
  EXPECT_EQ(merge.exit.exit_code, 1) << merge.out;
  EXPECT_NE(merge.out.find("lib/textkit.sh"), std::string::npos) << merge.out;
  // Redone from the new base, it does.
  Git(d, {"checkout", "-q", "b"});
  Git(d, {"reset", "-q", "--hard", kDemoBaseBranch});
  ASSERT_TRUE(ApplyOps(d, pair[1]->ops).ok());
  Commit(d, "b again");
  auto again = RunArgv({"git", "-C", d, "merge-tree", "--write-tree", kDemoBaseBranch, "b"});
  EXPECT_EQ(again.exit.exit_code, 0) << again.out;
  EXPECT_TRUE(ProjectTestsPass(d));
}

}  // namespace
}  // namespace pipeline::demo
