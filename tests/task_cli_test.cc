// `pipeline task` driven as the seed scheduler and a user drive it: the built
// binary, argv exactly as docs/protocol.md ("task") shows, JSON read from stdout.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "testutil/testutil.h"
#include "util/files.h"

namespace pipeline {
namespace {

using testing::PipelineBin;
using testing::TempDir;

// Runs argv with a clean PIPELINE_ROOT (set only when root is given).
CommandResult RunClean(std::vector<std::string> argv, const std::string& cwd, const std::string& root) {
  Command c;
  c.argv = std::move(argv);
  c.cwd = cwd;
  if (root.empty()) c.env_unset = {"PIPELINE_ROOT", "PIPELINE_AUTHOR"};
  else c.env_set = {{"PIPELINE_ROOT", root}};
  c.env_unset.push_back("PIPELINE_AUTHOR");
  c.timeout_ms = 60000;
  auto r = RealProcessRunner().Run(c);
  EXPECT_TRUE(r.ok()) << r.message();
  return r.ok() ? *r : CommandResult{};
}

class TaskCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / ".pipeline";
    auto r = testing::RunPipeline({"init", "--root", root_}, dir_.path());
    ASSERT_TRUE(r.ok()) << r.err;
  }

  // `pipeline task ARGS...` with PIPELINE_ROOT set, as the seed would run it.
  CommandResult Task(std::vector<std::string> args) {
    args.insert(args.begin(), {PipelineBin(), "task"});
    return RunClean(args, dir_.path(), root_);
  }

  nlohmann::json TaskJson(std::vector<std::string> args) {
    args.push_back("--json");
    auto r = Task(args);
    EXPECT_EQ(r.exit.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }

  std::string Export() {
    auto r = Task({"export"});
    EXPECT_EQ(r.exit.exit_code, 0) << r.err;
    return r.out;
  }

  // Expects the command to fail with `code`, one "pipeline: " line on stderr,
  // nothing on stdout, and the store unchanged.
  void ExpectRefused(const std::vector<std::string>& args, int code, const std::string& needle = "") {
    std::string before = Export();
    auto r = Task(args);
    EXPECT_EQ(r.exit.exit_code, code) << args[0] << " " << (args.size() > 1 ? args[1] : "") << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_EQ(r.err.find("pipeline"), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    if (!needle.empty()) {
      EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    }
    EXPECT_EQ(Export(), before);
  }

  TempDir dir_;
  std::string root_;
};

TEST_F(TaskCliTest, SeedCallSequence) {
  TaskJson({"create", "A one", "--namespace", "Omni/A.hs"});
  TaskJson({"create", "B one", "--namespace", "Omni/B.hs"});
  TaskJson({"create", "A two", "--namespace", "Omni/A.hs"});
  TaskJson({"create", "no namespace"});

  auto ready = TaskJson({"ready"});
  ASSERT_TRUE(ready.is_array());
  ASSERT_EQ(ready.size(), 4u);
  for (const auto& t : ready) {
    ASSERT_TRUE(t["taskId"].is_string());
    EXPECT_TRUE(t["taskNamespace"].is_string() || t["taskNamespace"].is_null());
    EXPECT_TRUE(t["taskTitle"].is_string());
    EXPECT_EQ(t["taskStatus"], "open");
  }
  EXPECT_EQ(ready[0]["taskId"], "t-1");
  EXPECT_TRUE(ready[3]["taskNamespace"].is_null());

  auto claim = Task({"claim", "t-1", "open", "in-progress", "--json"});
  EXPECT_EQ(claim.exit.exit_code, 0) << claim.err;
  auto claimed = nlohmann::json::parse(claim.out, nullptr, false);
  EXPECT_EQ(claimed["taskStatus"], "in-progress");
  auto again = Task({"claim", "t-1", "open", "in-progress", "--json"});
  EXPECT_EQ(again.exit.exit_code, 1);
  EXPECT_TRUE(again.out.empty());
  EXPECT_NE(again.err.find("in-progress"), std::string::npos) << again.err;

  auto shown = TaskJson({"show", "t-1"});
  EXPECT_EQ(shown["taskId"], "t-1");
  EXPECT_EQ(shown["taskStatus"], "in-progress");

  std::string text = "Pipeline scheduler: started run=pipeline-omni-a-hs-t-1-1795480637 domain=Omni/A.hs";
  auto commented = TaskJson({"comment", "t-1", text});
  ASSERT_EQ(commented["taskComments"].size(), 1u);
  EXPECT_EQ(commented["taskComments"][0]["commentText"], text);
  EXPECT_EQ(commented["taskComments"][0]["commentAuthor"], "human");

  EXPECT_EQ(TaskJson({"update", "t-1", "review"})["taskStatus"], "review");
  EXPECT_EQ(TaskJson({"ready"}).size(), 3u);
  EXPECT_EQ(TaskJson({"update", "t-1", "open"})["taskStatus"], "open");
  EXPECT_EQ(TaskJson({"ready"}).size(), 4u);
}

TEST_F(TaskCliTest, EveryFieldHasItsNameAndType) {
  TaskJson({"create", "parent", "--type", "epic"});
  TaskJson({"create", "dep"});
  auto t = TaskJson({"create", "child", "--parent", "t-1", "--namespace", "Omni/Pipeline.hs", "--priority", "1",
                     "--deps", "t-2", "--tags", "x,y", "--complexity", "3", "--description", "the description"});
  EXPECT_EQ(t["taskId"], "t-3");
  EXPECT_EQ(t["taskTitle"], "child");
  EXPECT_EQ(t["taskType"], "work");
  EXPECT_EQ(t["taskParent"], "t-1");
  EXPECT_EQ(t["taskNamespace"], "Omni/Pipeline.hs");
  EXPECT_EQ(t["taskStatus"], "open");
  EXPECT_EQ(t["taskPatchsetCount"], 0);
  EXPECT_EQ(t["taskPriority"], "P1");
  EXPECT_EQ(t["taskComplexity"], 3);
  EXPECT_EQ(t["taskDependencies"], nlohmann::json::array({"t-2"}));
  EXPECT_EQ(t["taskDescription"], "the description");
  EXPECT_EQ(t["taskComments"], nlohmann::json::array());
  EXPECT_EQ(t["taskTags"], nlohmann::json::array({"x", "y"}));
  ASSERT_TRUE(t["taskCreatedAt"].is_string());
  EXPECT_EQ(t["taskCreatedAt"].get<std::string>().back(), 'Z');
  EXPECT_TRUE(t["taskUpdatedAt"].is_string());
  EXPECT_EQ(t.size(), 15u);
  auto c = TaskJson({"comment", "t-3", "hi", "--author", "agent:engineer"})["taskComments"][0];
  EXPECT_EQ(c["commentText"], "hi");
  EXPECT_EQ(c["commentAuthor"], "agent:engineer");
  EXPECT_TRUE(c["commentCreatedAt"].is_string());
  EXPECT_EQ(TaskJson({"show", "t-1"})["taskType"], "epic");
  // The epic and the blocked child are not ready.
  auto ready = TaskJson({"ready"});
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0]["taskId"], "t-2");
}

TEST_F(TaskCliTest, PlainOutputAndStatusSpellings) {
  auto r = Task({"create", "Plain"});
  EXPECT_EQ(r.out, "Created t-1\n");
  for (std::string spelling : {"InProgress", "in_progress", "IN-PROGRESS"}) {
    ASSERT_EQ(Task({"update", "t-1", "open"}).exit.exit_code, 0);
    auto c = Task({"claim", "t-1", "Open", spelling});
    EXPECT_EQ(c.exit.exit_code, 0) << c.err;
    EXPECT_EQ(TaskJson({"show", "t-1"})["taskStatus"], "in-progress");
  }
  EXPECT_EQ(TaskJson({"list", "--status", "InProgress"}).size(), 1u);
  EXPECT_EQ(TaskJson({"list", "--status", "open"}).size(), 0u);
}

TEST_F(TaskCliTest, CommentAuthorFromEnvironment) {
  Task({"create", "x"});
  Command c;
  c.argv = {PipelineBin(), "task", "comment", "t-1", "from env", "--json"};
  c.env_set = {{"PIPELINE_ROOT", root_}, {"PIPELINE_AUTHOR", "agent:reviewer"}};
  auto r = RealProcessRunner().Run(c);
  ASSERT_TRUE(r.ok() && r->exit.exit_code == 0) << r->err;
  EXPECT_EQ(nlohmann::json::parse(r->out)["taskComments"][0]["commentAuthor"], "agent:reviewer");
  c.env_set["PIPELINE_AUTHOR"] = "root";
  r = RealProcessRunner().Run(c);
  EXPECT_EQ(r->exit.exit_code, 2);
}

TEST_F(TaskCliTest, MultiCallNames) {
  Task({"create", "x"});
  auto r = RunClean({PipelineBin() + "-task", "ready", "--json"}, dir_.path(), root_);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)[0]["taskId"], "t-1");
  TempDir bin;
  ASSERT_EQ(symlink(PipelineBin().c_str(), (bin / "task").c_str()), 0);
  r = RunClean({bin / "task", "show", "t-1", "--json"}, dir_.path(), root_);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["taskTitle"], "x");
}

TEST_F(TaskCliTest, RootFromFlagEnvironmentAndCwdWalkUp) {
  Task({"create", "x"});
  ASSERT_TRUE(MakeDirs(dir_ / "a/b/c").ok());
  // cwd walk-up, no PIPELINE_ROOT.
  auto r = RunClean({PipelineBin(), "task", "show", "t-1", "--json"}, dir_ / "a/b/c", "");
  EXPECT_EQ(r.exit.exit_code, 0) << r.err;
  // --root from anywhere.
  TempDir elsewhere;
  r = RunClean({PipelineBin(), "task", "ready", "--root", root_, "--json"}, elsewhere.path(), "");
  EXPECT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 1u);
  // No store anywhere: a clear error, exit 1.
  r = RunClean({PipelineBin(), "task", "ready", "--json"}, elsewhere.path(), "");
  EXPECT_EQ(r.exit.exit_code, 1);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("pipeline init"), std::string::npos) << r.err;
  // PIPELINE_ROOT pointing at a directory without a store.
  r = RunClean({PipelineBin(), "task", "ready", "--json"}, elsewhere.path(), elsewhere / ".pipeline");
  EXPECT_EQ(r.exit.exit_code, 1);
  EXPECT_NE(r.err.find("pipeline init"), std::string::npos) << r.err;
}

TEST_F(TaskCliTest, UnknownIdsAreRefused) {
  Task({"create", "x"});
  Task({"create", "y"});
  ExpectRefused({"show", "t-9", "--json"}, 1, "t-9");
  ExpectRefused({"update", "t-9", "done", "--json"}, 1);
  ExpectRefused({"claim", "t-9", "open", "in-progress", "--json"}, 1);
  ExpectRefused({"comment", "t-9", "hello", "--json"}, 1);
  ExpectRefused({"dep", "add", "t-1", "t-9"}, 1);
  ExpectRefused({"dep", "add", "t-9", "t-1"}, 1);
  ExpectRefused({"dep", "remove", "t-1", "t-2"}, 1);
  ExpectRefused({"create", "z", "--parent", "t-9"}, 1);
  ExpectRefused({"create", "z", "--deps", "t-1,t-9"}, 1);
  for (std::string id : {"../t-1", "t-1/..", "t-1\"", "$(touch pwned)", "t-1\nt-2", "/etc/passwd", "'t-1'"}) {
    ExpectRefused({"show", id}, 1);
    ExpectRefused({"update", id, "done"}, 1);
    ExpectRefused({"dep", "add", "t-1", id}, 1);
  }
  EXPECT_FALSE(PathExists(dir_ / "pwned"));
}

TEST_F(TaskCliTest, CyclesAndSelfDependencyAreRefused) {
  Task({"create", "a"});
  Task({"create", "b", "--deps", "t-1"});
  Task({"create", "c", "--deps", "t-2"});
  ExpectRefused({"dep", "add", "t-1", "t-3", "--json"}, 1, "t-1 -> t-3 -> t-2 -> t-1");
  ExpectRefused({"dep", "add", "t-1", "t-1"}, 1, "itself");
  EXPECT_EQ(Task({"dep", "remove", "t-3", "t-2"}).exit.exit_code, 0);
  EXPECT_EQ(Task({"dep", "add", "t-1", "t-3"}).exit.exit_code, 0);
}

TEST_F(TaskCliTest, InvalidValuesAreUsageErrors) {
  Task({"create", "x"});
  ExpectRefused({"update", "t-1", "finished"}, 2, "finished");
  ExpectRefused({"claim", "t-1", "opened", "in-progress"}, 2);
  ExpectRefused({"claim", "t-1", "open", "started"}, 2);
  ExpectRefused({"list", "--status", "nope"}, 2);
  for (std::string p : {"P5", "high", "-1", "P", "5"}) ExpectRefused({"create", "y", "--priority", p}, 2, "priority");
  ExpectRefused({"create", "y", "--type", "bug"}, 2, "type");
  ExpectRefused({"create", "y", "--complexity", "0"}, 2);
  ExpectRefused({"create", "y", "--complexity", "six"}, 2);
  ExpectRefused({"create", ""}, 2);
  ExpectRefused({"create", "two\nlines"}, 2);
  ExpectRefused({"create", "y", "--namespace", "a\nb"}, 2);
  ExpectRefused({"comment", "t-1", "x", "--author", "agent:Bad Role"}, 2);
  ExpectRefused({"create"}, 2);
  ExpectRefused({"frobnicate"}, 2);
  ExpectRefused({"create", "y", "--description", "a", "--description-file", "/dev/null"}, 2);
}

TEST_F(TaskCliTest, NonUtf8IsRefusedAndJsonStaysValid) {
  Task({"create", "x"});
  ExpectRefused({"create", "bad \xff\xfe title"}, 2, "UTF-8");
  ExpectRefused({"create", "ok", "--description", "bad \xc3"}, 2, "UTF-8");
  ExpectRefused({"create", "ok", "--namespace", "Omni/\x80.hs"}, 2, "UTF-8");
  ExpectRefused({"comment", "t-1", "bad \xed\xa0\x80 surrogate"}, 2, "UTF-8");
  // Valid non-ASCII goes through and comes back as ASCII-only JSON.
  auto r = Task({"create", "caf\xc3\xa9 \xe2\x9c\x93", "--json"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  for (unsigned char c : r.out) EXPECT_LT(c, 0x80);
  EXPECT_EQ(nlohmann::json::parse(r.out)["taskTitle"], "caf\xc3\xa9 \xe2\x9c\x93");
}

TEST_F(TaskCliTest, OddNamespacesAndTitlesAreStoredVerbatim) {
  for (std::string ns : {"Omni/Pipeline.hs", "a/../../b", "quote\"d 'ns'", "$(touch pwned)", "`id`; rm -rf /"}) {
    auto t = TaskJson({"create", "title with $(touch pwned) and \"quotes\"", "--namespace", ns});
    EXPECT_EQ(t["taskNamespace"], ns);
    EXPECT_EQ(TaskJson({"show", t["taskId"]})["taskNamespace"], ns);
    EXPECT_EQ(TaskJson({"list", "--namespace", ns}).size(), 1u);
  }
  EXPECT_FALSE(PathExists(dir_ / "pwned"));
}

TEST_F(TaskCliTest, MegabyteDescriptionRoundTrips) {
  std::string big;
  for (int i = 0; big.size() < (1 << 20); ++i) big += "line " + std::to_string(i) + " \xc3\xa9 \"quoted\" \\ \t\n";
  testing::WriteTextFile(dir_ / "desc.txt", big);
  auto t = TaskJson({"create", "big", "--description-file", dir_ / "desc.txt"});
  EXPECT_EQ(t["taskDescription"], big);
  EXPECT_EQ(TaskJson({"show", "t-1"})["taskDescription"], big);
  auto ready = TaskJson({"ready"});
  EXPECT_EQ(ready[0]["taskDescription"], big);
  // And through export / import into a second store.
  TempDir other;
  ASSERT_TRUE(testing::RunPipeline({"init", "--root", other / ".pipeline"}).ok());
  testing::WriteTextFile(dir_ / "all.jsonl", Export());
  auto imp = RunClean({PipelineBin(), "task", "import", dir_ / "all.jsonl"}, other.path(), other / ".pipeline");
  ASSERT_EQ(imp.exit.exit_code, 0) << imp.err;
  auto shown = RunClean({PipelineBin(), "task", "show", "t-1", "--json"}, other.path(), other / ".pipeline");
  EXPECT_EQ(nlohmann::json::parse(shown.out)["taskDescription"], big);
}

TEST_F(TaskCliTest, ExportImportRoundTripIsByteIdentical) {
  Task({"create", "epic", "--type", "epic", "--namespace", "Omni/X.hs"});
  Task({"create", "a", "--parent", "t-1", "--priority", "P0", "--tags", "k,j", "--complexity", "5",
        "--description", "multi\nline \xe2\x9c\x93"});
  Task({"create", "b", "--deps", "t-2"});
  Task({"comment", "t-2", "one", "--author", "system"});
  Task({"comment", "t-2", "two"});
  Task({"update", "t-3", "needs-help"});
  std::string first = Export();
  ASSERT_EQ(std::count(first.begin(), first.end(), '\n'), 3);

  TempDir other;
  std::string other_root = other / ".pipeline";
  ASSERT_TRUE(testing::RunPipeline({"init", "--root", other_root}).ok());
  testing::WriteTextFile(other / "in.jsonl", first);
  auto imp = RunClean({PipelineBin(), "task", "import", other / "in.jsonl", "--json"}, other.path(), other_root);
  ASSERT_EQ(imp.exit.exit_code, 0) << imp.err;
  EXPECT_EQ(nlohmann::json::parse(imp.out)["imported"], 3);
  auto again = RunClean({PipelineBin(), "task", "export"}, other.path(), other_root);
  EXPECT_EQ(again.out, first);
  auto next = RunClean({PipelineBin(), "task", "create", "after import"}, other.path(), other_root);
  EXPECT_EQ(next.out, "Created t-4\n");
}

TEST_F(TaskCliTest, BadImportChangesNothing) {
  Task({"create", "existing"});
  auto try_import = [&](const std::string& text, int code, const std::string& needle) {
    testing::WriteTextFile(dir_ / "in.jsonl", text);
    ExpectRefused({"import", dir_ / "in.jsonl"}, code, needle);
  };
  std::string ok = R"({"taskId":"x-1","taskTitle":"fine"})";
  try_import(ok + "\n{broken\n", 2, "line 2");
  try_import(ok + "\n" + R"({"taskId":"../x","taskTitle":"t"})" + "\n", 2, "line 2");
  try_import(ok + "\n" + R"({"taskId":"a..b","taskTitle":"t"})" + "\n", 2, "line 2");
  try_import(ok + "\n" + R"({"taskId":"x-2","taskTitle":"t","taskPriority":"P9"})", 2, "line 2");
  try_import(ok + "\n" + "{\"taskId\":\"x-2\",\"taskTitle\":\"bad \xff\"}", 2, "line 2");
  try_import(R"({"taskId":"t-1","taskTitle":"clash"})", 1, "already exists");
  try_import(ok + "\n" + R"({"taskId":"x-2","taskTitle":"t","taskDependencies":["t-77"]})", 1, "line 2");
  ExpectRefused({"import", dir_ / "missing.jsonl"}, 1);
}

}  // namespace
}  // namespace pipeline
