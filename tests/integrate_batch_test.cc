// Black-box tests of `pipeline integrate-batch` on real repositories: a batch
// checked once when green, bisected when red, a red base that lands nothing,
// and kill -9 at random moments of batches (every commit the base gains
// passes the check, no change is lost, none is merged twice).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <random>
#include <set>

#include "integrate/lock.h"
#include "integrate_test_fixture.h"

namespace pipeline::testing {
namespace {

// The check: fails when the tree holds a file named broken*, saying which.
constexpr const char* kCheckConfig =
    "[verify]\n"
    "command = [\"sh\", \"-c\", \"sleep ${CHECK_SLEEP:-0}; for f in broken*; do if [ -e \\\"$f\\\" ]; then echo "
    "\\\"FAIL: $f is here\\\"; exit 1; fi; done; echo ok\"]\n"
    "[integrate]\n"
    "batch_max = 8\n"
    "parallel = 2\n";
// The same with four check slots: a red batch is searched for every failing
// change at once.
constexpr const char* kFourSlots = "[integrate]\nbatch_max = 12\nparallel = 4\n";

class IntegrateBatchTest : public IntegrateCliTest {
 protected:
  void SetUp() override {
    IntegrateCliTest::SetUp();
    WriteConfig(kCheckConfig);
  }
  // Tasks whose branches add one file each; bad ones add broken<i>.
  std::vector<std::string> MakeTasks(int n, const std::set<int>& bad, const std::string& tag = "") {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      std::string file = (bad.count(i) ? "broken" : "f") + tag + std::to_string(i) + ".txt";
      ids.push_back(MakeTask("change " + tag + std::to_string(i), file, "x\n"));
    }
    return ids;
  }
  CommandResult Batch(const std::vector<std::string>& ids, std::vector<std::string> extra = {},
                      const std::map<std::string, std::string>& env = {}) {
    std::vector<std::string> args = {"integrate-batch"};
    args.insert(args.end(), ids.begin(), ids.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return RunPipeline(args, repo_, env);
  }
  // Every stdout line, parsed: per task, and the summary (last).
  struct Answer {
    std::map<std::string, nlohmann::json> tasks;
    nlohmann::json summary;
  };
  static Answer Parse(const CommandResult& r) {
    Answer a;
    for (const std::string& line : Split(Trim(r.out), '\n')) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      EXPECT_TRUE(j.is_object()) << "stdout: " << r.out << "\nstderr: " << r.err;
      if (!j.is_object()) continue;
      if (j.contains("task")) a.tasks[j["task"].get<std::string>()] = j;
      else a.summary = j;
    }
    return a;
  }
  // Every commit main gained since `from` passes the check (no broken* in
  // its tree); returns how many there were.
  int ExpectEveryNewCommitPasses(const std::string& from) {
    int n = 0;
    for (const std::string& sha : Split(Git({"rev-list", from + "..main"}), '\n')) {
      if (sha.empty()) continue;
      ++n;
      EXPECT_EQ(Git({"ls-tree", "-r", "--name-only", sha}).find("broken"), std::string::npos) << sha;
    }
    return n;
  }
  // How many commits on main carry the trailer of each task.
  std::map<std::string, int> TrailerCounts() {
    std::map<std::string, int> n;
    for (const std::string& line : Split(Git({"log", "--format=%(trailers:key=Task-Id,valueonly)", "main"}), '\n')) {
      std::string id = Trim(line);
      if (!id.empty()) ++n[id];
    }
    return n;
  }
};

TEST_F(IntegrateBatchTest, AnAllGreenBatchLandsInOneCheck) {
  std::string before = Rev("main");
  auto ids = MakeTasks(6, {});
  auto r = Batch(ids);
  ASSERT_EQ(r.exit.exit_code, 0) << r.out << r.err;
  Answer a = Parse(r);
  EXPECT_EQ(a.summary["outcome"], "batch");
  EXPECT_EQ(a.summary["checks_run"], 1);
  EXPECT_EQ(a.summary["landed"], 6);
  for (const auto& id : ids) EXPECT_EQ(a.tasks[id]["outcome"], "integrated") << id;
  EXPECT_EQ(a.summary["new_base"], Rev("main"));
  EXPECT_EQ(a.summary["green_base"], Rev("main"));
  EXPECT_EQ(ExpectEveryNewCommitPasses(before), 6);
  EXPECT_EQ(Status(), "") << "the checkout of main follows";
  EXPECT_EQ(ReadTextFile(repo_ + "/f5.txt"), "x\n");
}

TEST_F(IntegrateBatchTest, OneCulpritAmongEightIsFoundAndOnlyItIsReturned) {
  std::string before = Rev("main");
  auto ids = MakeTasks(8, {5});
  auto r = Batch(ids, {"--green-base", before});
  ASSERT_EQ(r.exit.exit_code, 0) << r.out << r.err;
  Answer a = Parse(r);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(a.tasks[ids[i]]["outcome"], "integrated") << i;
  EXPECT_EQ(a.tasks[ids[5]]["outcome"], "check-failed");
  EXPECT_NE(a.tasks[ids[5]]["output_tail"].get<std::string>().find("FAIL: broken5.txt is here"), std::string::npos);
  for (int i = 6; i < 8; ++i) EXPECT_EQ(a.tasks[ids[i]]["outcome"], "requeued") << i;
  EXPECT_EQ(ExpectEveryNewCommitPasses(before), 5);
  // The tip, then a 3-ary search over 7 prefixes with two slots: at most two
  // rounds of two checks.
  EXPECT_LE(a.summary["checks_run"].get<int>(), 5);
  // The rest go again and land.
  auto again = Batch({ids[6], ids[7]}, {"--green-base", Rev("main")});
  Answer b = Parse(again);
  EXPECT_EQ(b.tasks[ids[6]]["outcome"], "integrated");
  EXPECT_EQ(b.tasks[ids[7]]["outcome"], "integrated");
  EXPECT_EQ(b.summary["checks_run"], 1);
}

TEST_F(IntegrateBatchTest, TwoCulpritsTheFirstIsFoundTheSecondInTheNextBatch) {
  std::string before = Rev("main");
  auto ids = MakeTasks(6, {1, 4});
  Answer a = Parse(Batch(ids, {"--green-base", before}));
  EXPECT_EQ(a.tasks[ids[0]]["outcome"], "integrated");
  EXPECT_EQ(a.tasks[ids[1]]["outcome"], "check-failed");
  for (int i = 2; i < 6; ++i) EXPECT_EQ(a.tasks[ids[i]]["outcome"], "requeued") << i;
  Answer b = Parse(Batch({ids[2], ids[3], ids[4], ids[5]}, {"--green-base", Rev("main")}));
  EXPECT_EQ(b.tasks[ids[2]]["outcome"], "integrated");
  EXPECT_EQ(b.tasks[ids[3]]["outcome"], "integrated");
  EXPECT_EQ(b.tasks[ids[4]]["outcome"], "check-failed");
  EXPECT_NE(b.tasks[ids[4]]["output_tail"].get<std::string>().find("broken4"), std::string::npos);
  EXPECT_EQ(b.tasks[ids[5]]["outcome"], "requeued");
  EXPECT_EQ(ExpectEveryNewCommitPasses(before), 3);
}

TEST_F(IntegrateBatchTest, WithFourSlotsEveryCulpritIsReturnedAndTheRestLandInOneBatch) {
  std::string config = kCheckConfig;
  WriteConfig(config.substr(0, config.find("[integrate]")) + kFourSlots);
  std::string before = Rev("main");
  auto ids = MakeTasks(12, {2, 7, 8});
  auto r = Batch(ids, {"--green-base", before});
  ASSERT_EQ(r.exit.exit_code, 0) << r.out << r.err;
  Answer a = Parse(r);
  for (int i = 0; i < 12; ++i) {
    if (i == 2 || i == 7 || i == 8) {
      EXPECT_EQ(a.tasks[ids[i]]["outcome"], "check-failed") << i;
      // The output of the change's own check, naming its own file.
      EXPECT_NE(a.tasks[ids[i]]["output_tail"].get<std::string>().find("broken" + std::to_string(i) + ".txt"),
                std::string::npos)
          << a.tasks[ids[i]].dump();
    } else {
      EXPECT_EQ(a.tasks[ids[i]]["outcome"], "integrated") << i;
    }
  }
  EXPECT_EQ(a.summary["landed"], 9);
  EXPECT_EQ(a.summary["new_base"], Rev("main"));
  EXPECT_EQ(a.summary["green_base"], Rev("main"));
  EXPECT_EQ(ExpectEveryNewCommitPasses(before), 9);
  // In queue order: the landed changes' commits follow one another.
  std::vector<std::string> subjects = Split(Git({"log", "--reverse", "--format=%s", before + "..main"}), '\n');
  ASSERT_EQ(subjects.size(), 9u);
  EXPECT_NE(subjects[0].find("change 0"), std::string::npos);
  EXPECT_NE(subjects[2].find("change 3"), std::string::npos);
  EXPECT_NE(subjects[8].find("change 11"), std::string::npos);
  EXPECT_EQ(Status(), "") << "the checkout of main follows";
}

TEST_F(IntegrateBatchTest, AConflictInsideTheBatchLeavesItWithoutHoldingBackTheOthers) {
  std::string before = Rev("main");
  std::string a = MakeTask("a", "same.txt", "a\n");
  std::string b = MakeTask("b", "same.txt", "b\n");
  std::string c = MakeTask("c", "c.txt", "c\n");
  Answer out = Parse(Batch({a, b, c}));
  EXPECT_EQ(out.tasks[a]["outcome"], "integrated");
  EXPECT_EQ(out.tasks[b]["outcome"], "conflict");
  EXPECT_EQ(out.tasks[b]["files"], nlohmann::json::array({"same.txt"}));
  EXPECT_EQ(out.tasks[c]["outcome"], "integrated");
  EXPECT_EQ(out.summary["checks_run"], 1);
  EXPECT_EQ(ExpectEveryNewCommitPasses(before), 2);
}

TEST_F(IntegrateBatchTest, ARedBaseLandsNothingAndBlamesNobody) {
  WriteTextFile(repo_ + "/broken-base.txt", "x\n");
  Git({"add", "broken-base.txt"});
  Git({"commit", "-q", "-m", "a broken commit on main"});
  std::string red = Rev("main");
  auto ids = MakeTasks(3, {});
  // Told the base was red: the base alone is checked, once.
  Answer a = Parse(Batch(ids, {"--recheck-base"}));
  EXPECT_EQ(a.summary["base_red"], true);
  EXPECT_EQ(a.summary["checks_run"], 1);
  EXPECT_NE(a.summary["base_output"].get<std::string>().find("broken-base"), std::string::npos);
  for (const auto& id : ids) EXPECT_EQ(a.tasks[id]["outcome"], "requeued");
  EXPECT_EQ(Rev("main"), red);
  // Not told (the base's state unknown): the batch tip fails, the search
  // reaches the base, and still nobody is blamed.
  Answer b = Parse(Batch(ids));
  EXPECT_EQ(b.summary["base_red"], true);
  for (const auto& id : ids) EXPECT_EQ(b.tasks[id]["outcome"], "requeued");
  EXPECT_EQ(Rev("main"), red);
  // Repaired: everything lands.
  Git({"rm", "-q", "broken-base.txt"});
  Git({"commit", "-q", "-m", "repair main"});
  Answer c = Parse(Batch(ids, {"--recheck-base"}));
  EXPECT_EQ(c.summary["base_red"], false);
  EXPECT_EQ(c.summary["landed"], 3);
}

TEST_F(IntegrateBatchTest, ARedoneBatchNeverMergesAChangeTwice) {
  std::string before = Rev("main");
  auto ids = MakeTasks(3, {});
  auto crashed = Batch(ids, {}, {{"PIPELINE_TEST_CRASH_AT", "after-ref"}});
  ASSERT_TRUE(crashed.exit.signaled()) << crashed.out << crashed.err;
  std::string landed = Rev("main");
  EXPECT_NE(landed, before);
  EXPECT_TRUE(PathExists(IntegrateJournalPath(paths_, "main")));
  Answer a = Parse(Batch(ids));
  for (const auto& id : ids) {
    EXPECT_EQ(a.tasks[id]["outcome"], "integrated") << id;
    EXPECT_EQ(a.tasks[id]["already"], true) << id;
  }
  EXPECT_EQ(Rev("main"), landed);
  EXPECT_EQ(Status(), "");
  EXPECT_FALSE(PathExists(IntegrateJournalPath(paths_, "main")));
  for (const auto& [id, n] : TrailerCounts()) EXPECT_EQ(n, 1) << id;
}

// SIGKILL the worker at random moments of several rounds of batches (the
// check sleeps, so kills land before, during and after checks and around the
// ref update); after each kill the queue is run again until every change is
// decided. Invariants: every commit main gains passes the check; every good
// change lands exactly once; no bad change lands.
class KillNineTest : public IntegrateBatchTest, public ::testing::WithParamInterface<int> {};

TEST_P(KillNineTest, KillNineAtRandomMomentsOfBatches) {
  const int slots = GetParam();
  if (slots != 2) {
    std::string config = kCheckConfig;
    WriteConfig(config.substr(0, config.find("[integrate]")) + "[integrate]\nbatch_max = 8\nparallel = " +
                std::to_string(slots) + "\n");
  }
  const unsigned seed = static_cast<unsigned>(getpid());
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_ms(0, 900);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::string start = Rev("main");
  std::set<std::string> good, bad;
  for (int round = 0; round < 5; ++round) {
    std::set<int> bad_at = {static_cast<int>(rng() % 6)};
    if (slots > 2) bad_at.insert(static_cast<int>(rng() % 6));  // where every culprit is searched at once
    auto ids = MakeTasks(6, bad_at, "r" + std::to_string(round) + "-");
    for (int i = 0; i < 6; ++i) (bad_at.count(i) ? bad : good).insert(ids[i]);
    int delay = delay_ms(rng);
    SCOPED_TRACE("round " + std::to_string(round) + " kill after " + std::to_string(delay) + " ms");
    SpawnOptions so;
    so.argv = {PipelineBin(), "integrate-batch"};
    so.argv.insert(so.argv.end(), ids.begin(), ids.end());
    so.cwd = repo_;
    so.env_set = {{"CHECK_SLEEP", "0.1"}};
    auto p = Spawn(so);
    ASSERT_TRUE(p.ok()) << p.message();
    usleep(delay * 1000);
    kill(p->pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(p->pid, &status, 0), p->pid);
    usleep(300 * 1000);  // checks the worker started finish on their own
    ExpectEveryNewCommitPasses(start);
    // The queue again, as the scheduler would: the undecided, in order.
    std::vector<std::string> pending = ids;
    for (int pass = 0; pass < 10 && !pending.empty(); ++pass) {
      auto r = Batch(pending);
      ASSERT_EQ(r.exit.exit_code, 0) << r.out << r.err;
      Answer a = Parse(r);
      std::vector<std::string> next;
      for (const auto& id : pending) {
        std::string o = a.tasks[id]["outcome"];
        if (o == "requeued") next.push_back(id);
        else if (o == "integrated") EXPECT_TRUE(good.count(id)) << id << " landed but fails the check";
        else EXPECT_TRUE(bad.count(id)) << id << ": " << a.tasks[id].dump();
      }
      pending = next;
    }
    EXPECT_TRUE(pending.empty());
  }
  ExpectEveryNewCommitPasses(start);
  auto counts = TrailerCounts();
  for (const auto& id : good) EXPECT_EQ(counts[id], 1) << id << " landed " << counts[id] << " times";
  for (const auto& id : bad) EXPECT_EQ(counts[id], 0) << id;
  EXPECT_EQ(Status(), "");
  EXPECT_FALSE(PathExists(IntegrateJournalPath(paths_, "main")));
}

// Two slots: the prefix search; four: every culprit at once.
INSTANTIATE_TEST_SUITE_P(Slots, KillNineTest, ::testing::Values(2, 4));

}  // namespace
}  // namespace pipeline::testing
