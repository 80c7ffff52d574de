// `pipeline demo` end to end, as a new user runs it: the built binary builds
// the sample project, works the backlog with the scripted agent and prints a
// summary. The facts are checked from the summary JSON and, independently,
// from the repository and the task CLI.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "testutil/testutil.h"
#include "util/text.h"

namespace pipeline::testing {
namespace {

using nlohmann::json;

const json* TaskWithRole(const json& s, const std::string& role) {
  for (const auto& t : s["tasks"])
    if (t["role"] == role) return &t;
  return nullptr;
}

TEST(DemoEndToEnd, WorksTheWholeBacklog) {
  TempDir t;
  std::string proj = t / "textkit";
  std::string summary_path = t / "summary.json";
  auto r = RunPipeline({"demo", "--no-watch", "--dir", proj, "--json-summary", summary_path}, t.path(), {}, 180000);
  ASSERT_EQ(r.exit.exit_code, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err;
  EXPECT_NE(r.out.find("Summary"), std::string::npos);
  EXPECT_NE(r.out.find("git log --oneline main"), std::string::npos);

  json s = json::parse(ReadTextFile(summary_path));
  ASSERT_TRUE(s["all_done"].get<bool>());
  ASSERT_GE(s["tasks"].size(), 9u);
  for (const auto& task : s["tasks"]) {
    EXPECT_EQ(task["status"], "done") << task.dump();
    EXPECT_TRUE(task["in_base"].get<bool>()) << "no commit with Task-Id " << task["id"] << " on main";
  }

  // One task failed verification once and was fixed in a later patchset.
  const json* fixed = TaskWithRole(s, "fails-verify-once");
  ASSERT_NE(fixed, nullptr);
  EXPECT_GE((*fixed)["patchsets"].get<int>(), 2);
  EXPECT_GE((*fixed)["dev_runs"].get<int>(), 2);

  // One asked a question (a run that ended needing input), got a person's answer and finished.
  const json* asked = TaskWithRole(s, "asks-question");
  ASSERT_NE(asked, nullptr);
  EXPECT_GE((*asked)["needs_input_runs"].get<int>(), 1);
  EXPECT_GE((*asked)["human_comments"].get<int>(), 1);
  EXPECT_GE((*asked)["agent_comments"].get<int>(), 1);
  EXPECT_GE((*asked)["dev_runs"].get<int>(), 2);

  // One of the pair met a merge conflict and was redone.
  int conflicted = 0;
  for (const auto& task : s["tasks"]) {
    if (task["role"] != "conflict-pair" || !task["conflict"].get<bool>()) continue;
    ++conflicted;
    EXPECT_GE(task["dev_runs"].get<int>(), 2) << task.dump();
  }
  EXPECT_EQ(conflicted, 1);

  // Money: each domain's spend is the sum of its runs' costs, nothing is left held,
  // and docs ran short once and was topped up.
  bool docs_granted = false;
  for (const auto& d : s["domains"]) {
    EXPECT_EQ(d["spent_cents"], d["runs_cost_cents"]) << d.dump();
    EXPECT_EQ(d["held_cents"], 0) << d.dump();
    EXPECT_LE(d["spent_cents"].get<int64_t>(), d["budget_cents"].get<int64_t>()) << d.dump();
    if (d["domain"] == "docs") docs_granted = d["granted_cents"].get<int64_t>() > 0;
  }
  EXPECT_TRUE(docs_granted);

  // Independently of the summary: the task CLI says done, and main passes its tests.
  auto list = RunPipeline({"task", "list", "--json", "--root", proj + "/.pipeline"});
  ASSERT_TRUE(list.ok()) << list.err;
  json tasks = json::parse(list.out);
  ASSERT_EQ(tasks.size(), s["tasks"].size());
  for (const auto& task : tasks) EXPECT_EQ(task["taskStatus"], "done") << task.dump();
  std::string clone = t / "clone";
  ASSERT_TRUE(RunArgv({"git", "clone", "-q", "-b", "main", proj, clone}).ok());
  auto tests = RunArgv({"sh", "tests/run.sh"}, clone);
  EXPECT_TRUE(tests.ok()) << tests.out;
  EXPECT_NE(tests.out.find("0 failed"), std::string::npos) << tests.out;
  auto log = RunArgv({"git", "-C", clone, "log", "--format=%B"});
  for (const auto& task : tasks)
    EXPECT_NE(log.out.find("Task-Id: " + task["taskId"].get<std::string>()), std::string::npos) << task["taskId"];
  EXPECT_LT(s["wall_seconds"].get<double>(), 120.0);
}

TEST(DemoEndToEnd, RefusesANonEmptyDirectory) {
  TempDir t;
  WriteTextFile(t / "precious.txt", "keep me\n");
  auto r = RunPipeline({"demo", "--no-watch", "--dir", t.path()});
  EXPECT_EQ(r.exit.exit_code, 1);
  EXPECT_EQ(r.err.rfind("pipeline: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("not empty"), std::string::npos) << r.err;
  EXPECT_EQ(ReadTextFile(t / "precious.txt"), "keep me\n");
  EXPECT_FALSE(RunArgv({"test", "-e", t / ".git"}).ok()) << "nothing may be created";
}

TEST(DemoEndToEnd, UnknownAgentIsAUsageError) {
  TempDir t;
  auto r = RunPipeline({"demo", "--no-watch", "--agent", "nope", "--dir", t / "x"});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_FALSE(RunArgv({"test", "-e", t / "x"}).ok());
}

TEST(DemoEndToEnd, AgentWithAMissingPromptReportsAnError) {
  TempDir t;
  auto r = RunPipeline({"demo", "agent", t / "absent.md"}, t.path());
  EXPECT_EQ(r.exit.exit_code, 1);
  EXPECT_EQ(r.err.rfind("pipeline: ", 0), 0u) << r.err;
  // The stream still ends with a result line, marked as an error.
  auto lines = Split(r.out, '\n');
  ASSERT_GE(lines.size(), 2u) << r.out;
  json last = json::parse(lines[lines.size() - 1].empty() ? lines[lines.size() - 2] : lines.back());
  EXPECT_EQ(last["type"], "result");
  EXPECT_TRUE(last["is_error"].get<bool>());
  auto usage = RunPipeline({"demo", "agent"}, t.path());
  EXPECT_EQ(usage.exit.exit_code, 2);
}

}  // namespace
}  // namespace pipeline::testing
