#include "integrate/batch.h"

#include <gtest/gtest.h>

#include <atomic>

#include "integrate/integrate_testing.h"

namespace pipeline {
namespace {

using testing::TempDir;
using testing::WriteTextFile;

class BatchTest : public integrate_testing::GitRepoTest {
 protected:
  // A task branch off main adding one file.
  QueuedChange Change(const std::string& id, const std::string& file, const std::string& text = "x\n") {
    return QueuedChange{id, "title of " + id, CommitOnBranch("pipeline/" + id, file, text, id)};
  }
  // The check fails when the tree holds a file named "broken*".
  PrefixCheck FakeCheck() {
    return [this](int, const std::string& commit, const std::vector<VerifyCommand>&) -> Result<CheckResult> {
      ++calls_;
      CheckResult r;
      std::string files = Sh({"ls-tree", "--name-only", commit});
      r.passed = files.find("broken") == std::string::npos;
      r.output_tail = r.passed ? "ok" : "FAIL: " + commit;
      return r;
    };
  }
  BatchRequest Request(std::vector<QueuedChange> changes) {
    BatchRequest req;
    req.base = "main";
    req.changes = std::move(changes);
    req.base_green_commit = Sh({"rev-parse", "main"});
    return req;
  }
  // Every commit the base gained since `from` passes the check.
  void ExpectEveryNewCommitPasses(const std::string& from) {
    std::string list = Sh({"rev-list", from + "..main"});
    size_t pos = 0;
    while (pos < list.size()) {
      size_t nl = list.find('\n', pos);
      std::string sha = list.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      EXPECT_EQ(Sh({"ls-tree", "--name-only", sha}).find("broken"), std::string::npos) << sha;
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
  }
  std::atomic<int> calls_{0};
};

TEST_F(BatchTest, AllGreenBatchLandsInOneCheck) {
  std::vector<QueuedChange> cs;
  for (int i = 1; i <= 6; ++i) cs.push_back(Change("t-" + std::to_string(i), "f" + std::to_string(i)));
  std::string before = Sh({"rev-parse", "main"});
  auto out = RunBatch(*git_, Request(cs), FakeCheck());
  ASSERT_TRUE(out.ok()) << out.message();
  EXPECT_EQ(out->checks_run, 1);
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(out->new_base, Sh({"rev-parse", "main"}));
  EXPECT_NE(out->new_base, before);
  for (const auto& c : out->changes) EXPECT_EQ(c.kind, BatchChangeOutcome::Kind::kLanded) << c.task_id;
  EXPECT_EQ(Sh({"rev-list", "--count", before + "..main"}), "6");  // one commit per change, in order
  EXPECT_EQ(Sh({"log", "-1", "--format=%s", "main"}), "t-6: title of t-6");
}

TEST_F(BatchTest, OneCulpritAmongEightOnlyItIsReturnedTheRestRequeued) {
  std::vector<QueuedChange> cs;
  for (int i = 1; i <= 8; ++i)
    cs.push_back(Change("t-" + std::to_string(i), (i == 5 ? "broken" : "f") + std::to_string(i)));
  std::string before = Sh({"rev-parse", "main"});
  auto out = RunBatch(*git_, Request(cs), FakeCheck());
  ASSERT_TRUE(out.ok()) << out.message();
  using K = BatchChangeOutcome::Kind;
  for (int i = 0; i < 4; ++i) EXPECT_EQ(out->changes[i].kind, K::kLanded) << i;
  EXPECT_EQ(out->changes[4].kind, K::kCheckFailed);
  EXPECT_NE(out->changes[4].feedback.find("FAIL"), std::string::npos);
  for (int i = 5; i < 8; ++i) EXPECT_EQ(out->changes[i].kind, K::kRequeued) << i;
  EXPECT_EQ(out->new_base, out->changes[3].commit);
  EXPECT_EQ(Sh({"rev-parse", "main"}), out->changes[3].commit);
  EXPECT_LE(out->checks_run, 4);
  ExpectEveryNewCommitPasses(before);
}

TEST_F(BatchTest, ParallelSlotsFindTheCulpritInFewerRounds) {
  std::vector<QueuedChange> cs;
  for (int i = 1; i <= 8; ++i)
    cs.push_back(Change("t-" + std::to_string(i), (i == 2 ? "broken" : "f") + std::to_string(i)));
  BatchRequest req = Request(cs);
  req.parallel = 2;  // below kIsolateFromParallel: the prefix search
  auto out = RunBatch(*git_, req, FakeCheck());
  ASSERT_TRUE(out.ok()) << out.message();
  EXPECT_EQ(out->changes[0].kind, BatchChangeOutcome::Kind::kLanded);
  EXPECT_EQ(out->changes[1].kind, BatchChangeOutcome::Kind::kCheckFailed);
  for (int i = 2; i < 8; ++i) EXPECT_EQ(out->changes[i].kind, BatchChangeOutcome::Kind::kRequeued) << i;
  EXPECT_EQ(Sh({"rev-parse", "main"}), out->changes[0].commit);
}

TEST_F(BatchTest, WithEnoughSlotsEveryCulpritIsFoundAndAllTheOthersLandTogether) {
  std::vector<QueuedChange> cs;
  for (int i = 1; i <= 8; ++i)
    cs.push_back(Change("t-" + std::to_string(i), (i == 3 || i == 6 ? "broken" : "f") + std::to_string(i)));
  std::string before = Sh({"rev-parse", "main"});
  BatchRequest req = Request(cs);
  req.parallel = 4;
  auto out = RunBatch(*git_, req, FakeCheck());
  ASSERT_TRUE(out.ok()) << out.message();
  using K = BatchChangeOutcome::Kind;
  for (int i = 0; i < 8; ++i) {
    if (i == 2 || i == 5) {
      EXPECT_EQ(out->changes[i].kind, K::kCheckFailed) << i;
      // Its own check's output: the tree that failed held its broken file.
      EXPECT_NE(out->changes[i].feedback.find("FAIL"), std::string::npos) << i;
    } else {
      EXPECT_EQ(out->changes[i].kind, K::kLanded) << i;
    }
  }
  EXPECT_EQ(Sh({"rev-parse", "main"}), out->changes[7].commit);
  EXPECT_EQ(out->new_base, out->changes[7].commit);
  EXPECT_EQ(out->green_base, out->new_base);
  EXPECT_EQ(Sh({"rev-list", "--count", before + "..main"}), "6");
  // Each landed change's commit is on the base, in queue order.
  EXPECT_EQ(Sh({"log", "--format=%s", "-1", out->changes[3].commit}), "t-4: title of t-4");
  EXPECT_EQ(Sh({"rev-parse", out->changes[3].commit + "^"}), out->changes[1].commit);
  ExpectEveryNewCommitPasses(before);
  // Tip, four groups, the two red groups' halves, the four halves' changes, the compose.
  EXPECT_LE(out->checks_run, 1 + 4 + 4 + 4 + 1);
}

TEST_F(BatchTest, WithEnoughSlotsChangesThatFailOnlyTogetherLandAVerifiedPrefix) {
  // t-2 adds "half-a", t-4 adds "half-b": the check fails only when a tree
  // holds both.
  std::vector<QueuedChange> cs;
  for (int i = 1; i <= 6; ++i)
    cs.push_back(Change("t-" + std::to_string(i), i == 2 ? "half-a" : i == 4 ? "half-b" : "f" + std::to_string(i)));
  std::string before = Sh({"rev-parse", "main"});
  BatchRequest req = Request(cs);
  req.parallel = 4;
  PrefixCheck both = [this](int, const std::string& commit, const std::vector<VerifyCommand>&) -> Result<CheckResult> {
    std::string files = Sh({"ls-tree", "--name-only", commit});
    CheckResult r;
    r.passed = !(files.find("half-a") != std::string::npos && files.find("half-b") != std::string::npos);
    r.output_tail = r.passed ? "ok" : "FAIL: both halves";
    return r;
  };
  auto out = RunBatch(*git_, req, both);
  ASSERT_TRUE(out.ok()) << out.message();
  using K = BatchChangeOutcome::Kind;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(out->changes[i].kind, K::kLanded) << i;
  EXPECT_EQ(out->changes[3].kind, K::kCheckFailed);
  EXPECT_NE(out->changes[3].feedback.find("both halves"), std::string::npos);
  for (int i = 4; i < 6; ++i) EXPECT_EQ(out->changes[i].kind, K::kRequeued) << i;
  EXPECT_EQ(Sh({"rev-parse", "main"}), out->changes[2].commit);
  EXPECT_EQ(Sh({"rev-list", "--count", before + "..main"}), "3");
}

TEST_F(BatchTest, AConflictInsideTheBatchLeavesItWithoutHoldingBackTheOthers) {
  QueuedChange a = Change("t-a", "same.txt", "a\n");
  QueuedChange b = Change("t-b", "same.txt", "b\n");
  QueuedChange c = Change("t-c", "c.txt");
  auto out = RunBatch(*git_, Request({a, b, c}), FakeCheck());
  ASSERT_TRUE(out.ok()) << out.message();
  using K = BatchChangeOutcome::Kind;
  EXPECT_EQ(out->changes[0].kind, K::kLanded);
  EXPECT_EQ(out->changes[1].kind, K::kConflict);
  EXPECT_NE(out->changes[1].feedback.find("same.txt"), std::string::npos);
  EXPECT_EQ(out->changes[2].kind, K::kLanded);
  EXPECT_EQ(out->checks_run, 1);
}

TEST_F(BatchTest, RedBaseLandsNothingAndBlamesNobody) {
  WriteTextFile(dir_ / "broken-base", "x\n");
  Sh({"add", "broken-base"});
  Sh({"commit", "-q", "-m", "someone pushed a broken commit"});
  QueuedChange a = Change("t-a", "a.txt");
  QueuedChange b = Change("t-b", "b.txt");
  std::string before = Sh({"rev-parse", "main"});
  BatchRequest req = Request({a, b});
  req.base_green_commit.clear();  // the base moved since it was last seen green
  auto out = RunBatch(*git_, req, FakeCheck());
  ASSERT_TRUE(out.ok()) << out.message();
  EXPECT_TRUE(out->base_red);
  EXPECT_EQ(Sh({"rev-parse", "main"}), before);
  for (const auto& c : out->changes) EXPECT_EQ(c.kind, BatchChangeOutcome::Kind::kRequeued);
}

TEST_F(BatchTest, BaseMovedDuringTheChecksLandsNothing) {
  QueuedChange a = Change("t-a", "a.txt");
  BatchHooks hooks;
  hooks.before_advance = [&](const std::string&, const std::string&) {
    WriteTextFile(dir_ / "other.txt", "pushed\n");
    Sh({"add", "other.txt"});
    Sh({"commit", "-q", "-m", "pushed meanwhile"});
    return Status::Ok();
  };
  auto out = RunBatch(*git_, Request({a}), FakeCheck(), hooks);
  ASSERT_TRUE(out.ok()) << out.message();
  EXPECT_TRUE(out->lost_race);
  EXPECT_EQ(out->changes[0].kind, BatchChangeOutcome::Kind::kRequeued);
  EXPECT_EQ(Sh({"log", "-1", "--format=%s", "main"}), "pushed meanwhile");
}

TEST_F(BatchTest, RealCheckCommandInScratchWorktrees) {
  QueuedChange a = Change("t-a", "a.txt");
  QueuedChange b = Change("t-b", "broken-b");
  BatchRequest req = Request({a, b});
  req.checks_for = [](const QueuedChange&) {
    return std::vector<VerifyCommand>{{{"sh", "-c", "if [ -e broken-b ]; then echo broken here; exit 1; fi"}, 60}};
  };
  TempDir scratch;
  auto out = RunBatch(*git_, req, ScratchWorktreeCheck(*git_, RealProcessRunner(), scratch.path(), {}));
  ASSERT_TRUE(out.ok()) << out.message();
  EXPECT_EQ(out->changes[0].kind, BatchChangeOutcome::Kind::kLanded);
  EXPECT_EQ(out->changes[1].kind, BatchChangeOutcome::Kind::kCheckFailed);
  EXPECT_NE(out->changes[1].feedback.find("broken here"), std::string::npos) << out->changes[1].feedback;
}

TEST_F(BatchTest, BatchOfOneIsTheSerialQueue) {
  QueuedChange a = Change("t-a", "a.txt");
  QueuedChange bad = Change("t-bad", "broken");
  auto first = RunBatch(*git_, Request({a}), FakeCheck());
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->changes[0].kind, BatchChangeOutcome::Kind::kLanded);
  auto second = RunBatch(*git_, Request({bad}), FakeCheck());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->changes[0].kind, BatchChangeOutcome::Kind::kCheckFailed);
  EXPECT_EQ(second->checks_run, 1);  // base known green: only the change's own check
  EXPECT_EQ(Sh({"rev-parse", "main"}), first->new_base);
}

}  // namespace
}  // namespace pipeline
