// "Ready" is one definition: a task blocked by an unfinished dependency is
// not ready for `task ready`, is not counted as ready work by `status`, and
// is not started by the scheduler.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sched_fixture.h"

namespace pipeline::testing {
namespace {

std::string Config(int64_t reserve_cents) {
  return "[fund]\ndefault_budget_cents = 1000\n[scheduler]\nreserve_cents = " + std::to_string(reserve_cents) +
         "\nworkspace = \"shared\"\n[agent]\nprofile = \"t\"\n" + ProfileToml("t", {"true"}) +
         "[verify]\ncommand = []\n";
}

TEST(ReadyBlocked, ABlockedTaskIsNotCountedReadyByStatusNorStarted) {
  SchedRepo repo(Config(10), /*git=*/false);
  // Different namespaces, so the blocked task is not merely behind its
  // dependency in one domain's queue.
  std::string first = repo.Task("first", std::string("A"));
  std::string blocked = repo.Task("blocked", std::string("B"), {first});

  auto ready = RunPipeline({"task", "ready", "--json"}, repo.dir());
  ASSERT_EQ(ready.exit.exit_code, 0) << ready.err;
  auto tasks = nlohmann::json::parse(ready.out);
  ASSERT_EQ(tasks.size(), 1u) << ready.out;
  EXPECT_EQ(tasks[0]["taskId"], first);

  // A hold larger than any budget: status counts one ready task, says the
  // ready one waits for budget and the blocked one for its dependency.
  WriteTextFile(repo.paths().config(), Config(1'000'000));
  auto status = RunPipeline({"status", "--json"}, repo.dir());
  ASSERT_EQ(status.exit.exit_code, 0) << status.err;
  auto snapshot = nlohmann::json::parse(status.out);
  EXPECT_EQ(snapshot["ready"].get<int64_t>(), 1) << status.out;
  int64_t no_budget = 0;
  for (const auto& s : snapshot["skipped"])
    if (s["kind"] == "no-budget") {
      ++no_budget;
      EXPECT_EQ(s["task_id"], first) << status.out;
    }
  EXPECT_EQ(no_budget, 1) << status.out;
  std::string blocked_kind;
  for (const auto& w : snapshot["waiting"])
    if (w["task_id"] == blocked) blocked_kind = w["kind"].get<std::string>();
  EXPECT_EQ(blocked_kind, "dependency") << status.out;

  // With money, the scheduler would start the dependency and not the task it blocks.
  WriteTextFile(repo.paths().config(), Config(10));
  auto plan = repo.Run({"--dry-run", "--max-active", "4"});
  ASSERT_EQ(plan.exit.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("would-start task=" + first), std::string::npos) << plan.out;
  EXPECT_EQ(plan.out.find("task=" + blocked), std::string::npos) << plan.out;
  EXPECT_EQ(repo.Status(blocked), "open");
}

}  // namespace
}  // namespace pipeline::testing
