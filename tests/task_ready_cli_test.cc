// `pipeline task ready --json` as the seed reads it: a top-level array whose
// elements are, byte for byte, what `task show ID --json` prints for each
// ready task (show dumps through the JSON library; ready writes its own
// text). Which tasks and in what order is worked out here from the backlog
// the test imports, not from the store.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "testutil/testutil.h"

namespace pipeline {
namespace {

using testing::RunPipeline;
using testing::TempDir;

TEST(TaskReadyCliTest, ReadyIsTheShowObjectsOfTheReadyTasksInOrder) {
  TempDir dir;
  std::string root = dir / ".pipeline";
  ASSERT_EQ(RunPipeline({"init", "--root", root}, dir.path()).exit.exit_code, 0);

  // 500 tasks: open, done and in review; epics; dependencies on tasks in
  // each status; unicode, quotes and control characters; null fields.
  struct Row {
    std::string id, status, type;
    int priority;
    std::vector<std::string> deps;
  };
  std::vector<Row> rows;
  std::string jsonl;
  for (int i = 1; i <= 500; ++i) {
    Row r{"t-" + std::to_string(i), i % 5 == 0 ? "done" : i % 7 == 0 ? "review" : "open",
          i % 11 == 0 ? "epic" : "work", (i * 7) % 5, {}};
    if (i % 3 == 0) r.deps.push_back("t-" + std::to_string(i - 1));
    if (i > 22 && i % 12 == 0) r.deps.push_back("t-" + std::to_string(i % 22 == 0 ? 11 : 22));
    std::sort(r.deps.begin(), r.deps.end());
    r.deps.erase(std::unique(r.deps.begin(), r.deps.end()), r.deps.end());
    nlohmann::json j = {{"taskId", r.id},
                        {"taskTitle", "t\xc3\xa2" "che \"" + std::to_string(i) + "\" \xf0\x9f\x98\x80"},
                        {"taskType", r.type},
                        {"taskStatus", r.status},
                        {"taskPriority", "P" + std::to_string(r.priority)},
                        {"taskDependencies", r.deps},
                        {"taskDescription", "line\n\ttab \x01 back\\slash \xe2\x9c\x93"},
                        {"taskCreatedAt", "2026-01-02T03:04:05.000" + std::to_string(100 + i % 900) + "Z"}};
    if (i % 2) j["taskNamespace"] = "Omni/Area" + std::to_string(i % 9) + ".hs";
    if (i % 3) j["taskComplexity"] = 1 + i % 5;
    if (i % 6 == 0) j["taskTags"] = {"b\xc3\xa9ta", "alpha"};
    if (i > 1 && i % 8 == 0) j["taskParent"] = "t-1";
    if (i % 4 == 0)
      j["taskComments"] = {{{"commentText", "first \xe2\x9c\x93\nsecond"}, {"commentAuthor", "agent:dev"}},
                           {{"commentText", "x"}, {"commentAuthor", "human"}}};
    jsonl += j.dump() + "\n";
    rows.push_back(std::move(r));
  }
  std::string file = dir / "backlog.jsonl";
  testing::WriteTextFile(file, jsonl);
  auto imported = RunPipeline({"task", "import", file, "--root", root}, dir.path());
  ASSERT_EQ(imported.exit.exit_code, 0) << imported.err;

  std::map<std::string, std::string> status;
  for (const Row& r : rows) status[r.id] = r.status;
  std::vector<const Row*> want;
  for (const Row& r : rows) {
    bool ready = r.status == "open" && r.type == "work";
    for (const auto& d : r.deps) ready = ready && status[d] == "done";
    if (ready) want.push_back(&r);
  }
  std::stable_sort(want.begin(), want.end(), [](const Row* a, const Row* b) { return a->priority < b->priority; });
  // Over 200 ready tasks: their comments, tags and dependencies are read by
  // scanning those tables rather than task by task.
  ASSERT_GT(want.size(), 200u);
  ASSERT_LT(want.size(), rows.size() / 2);

  std::string expected = "[";
  for (size_t i = 0; i < want.size(); ++i) {
    auto shown = RunPipeline({"task", "show", want[i]->id, "--root", root, "--json"}, dir.path());
    ASSERT_EQ(shown.exit.exit_code, 0) << shown.err;
    ASSERT_FALSE(shown.out.empty());
    ASSERT_EQ(shown.out.back(), '\n');
    if (i) expected += ",";
    expected += shown.out.substr(0, shown.out.size() - 1);
  }
  expected += "]\n";

  auto ready = RunPipeline({"task", "ready", "--root", root, "--json"}, dir.path());
  ASSERT_EQ(ready.exit.exit_code, 0) << ready.err;
  EXPECT_EQ(ready.out, expected);
  auto parsed = nlohmann::json::parse(ready.out, nullptr, false);
  ASSERT_TRUE(parsed.is_array());
  EXPECT_EQ(parsed.size(), want.size());
}

}  // namespace
}  // namespace pipeline
