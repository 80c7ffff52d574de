// Many claimer processes against one store, and a writer killed with SIGKILL
// mid-transaction: claims stay exclusive and the store stays consistent.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "store/db.h"
#include "testutil/testutil.h"

namespace pipeline {
namespace {

using testing::PipelineBin;
using testing::TempDir;

std::string TaskLines(int n, const std::string& prefix) {
  std::string out;
  for (int i = 1; i <= n; ++i) {
    std::string id = prefix + std::to_string(i);
    out += R"({"taskId":")" + id + R"(","taskTitle":"task )" + std::to_string(i) +
           R"(","taskTags":["t"],"taskComments":[{"commentText":"c","commentAuthor":"system","commentCreatedAt":"2026-01-01T00:00:00.000000Z"}])" +
           (i > 1 ? R"(,"taskDependencies":[")" + prefix + std::to_string(i - 1) + "\"]" : std::string()) + "}\n";
  }
  return out;
}

int64_t Count(Db& db, const std::string& sql) {
  auto s = db.Prepare(sql);
  EXPECT_TRUE(s.ok()) << s.message();
  auto row = s->Step();
  EXPECT_TRUE(row.ok() && *row);
  return s->Int(0);
}

TEST(TaskConcurrencyTest, EachTaskIsClaimedExactlyOnce) {
  constexpr int kTasks = 200, kClaimers = 8;
  TempDir dir;
  std::string root = dir / ".pipeline";
  ASSERT_TRUE(testing::RunPipeline({"init", "--root", root}).ok());
  std::string lines;
  for (int i = 1; i <= kTasks; ++i) lines += R"({"taskId":"t-)" + std::to_string(i) + R"(","taskTitle":"x"})" "\n";
  testing::WriteTextFile(dir / "tasks.jsonl", lines);
  auto imp = testing::RunPipeline({"task", "import", dir / "tasks.jsonl", "--root", root});
  ASSERT_EQ(imp.exit.exit_code, 0) << imp.err;

  // Each claimer is a thread that runs one claim process at a time, over every
  // id in its own order, so the processes race on the same rows.
  std::vector<std::vector<int>> wins(kClaimers, std::vector<int>(kTasks + 1, 0));
  std::atomic<int> odd_failures{0};
  std::vector<std::string> odd_messages(kClaimers);
  std::vector<std::thread> threads;
  for (int c = 0; c < kClaimers; ++c) {
    threads.emplace_back([&, c] {
      std::vector<int> order(kTasks);
      for (int i = 0; i < kTasks; ++i) order[i] = i + 1;
      std::shuffle(order.begin(), order.end(), std::mt19937(c));
      for (int id : order) {
        Command cmd;
        cmd.argv = {PipelineBin(), "task", "claim", "t-" + std::to_string(id), "open", "in-progress", "--json"};
        cmd.env_set = {{"PIPELINE_ROOT", root}};
        auto r = RealProcessRunner().Run(cmd);
        if (!r.ok()) {
          ++odd_failures;
          continue;
        }
        if (r->exit.exit_code == 0) {
          ++wins[c][id];
        } else if (r->exit.exit_code != 1 || r->err.find("not open") == std::string::npos) {
          ++odd_failures;  // a loss must be "refused: not open", never a busy or I/O error
          odd_messages[c] = r->err;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(odd_failures.load(), 0) << odd_messages[0] << odd_messages[1];
  for (int id = 1; id <= kTasks; ++id) {
    int total = 0;
    for (int c = 0; c < kClaimers; ++c) total += wins[c][id];
    EXPECT_EQ(total, 1) << "t-" << id;
  }
  auto db = Db::Open(root + "/pipeline.db", false);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(Count(**db, "SELECT COUNT(*) FROM tasks WHERE status = 'in-progress'"), kTasks);
}

TEST(TaskConcurrencyTest, KilledImportLeavesAllOrNothing) {
  constexpr int kTasks = 5000;
  TempDir dir;
  testing::WriteTextFile(dir / "big.jsonl", TaskLines(kTasks, "k-"));
  // How long a whole import takes here, to spread the kills over it.
  std::string timing_root = dir / "timing/.pipeline";
  ASSERT_TRUE(testing::RunPipeline({"init", "--root", timing_root}).ok());
  timespec a{}, b{};
  clock_gettime(CLOCK_MONOTONIC, &a);
  auto full = testing::RunPipeline({"task", "import", dir / "big.jsonl", "--root", timing_root});
  clock_gettime(CLOCK_MONOTONIC, &b);
  ASSERT_EQ(full.exit.exit_code, 0) << full.err;
  int64_t full_us = (b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000;

  std::mt19937 rng(42);
  int none = 0, all = 0;
  for (int round = 0; round < 5; ++round) {
    std::string root = dir / ("r" + std::to_string(round) + "/.pipeline");
    ASSERT_TRUE(testing::RunPipeline({"init", "--root", root}).ok());
    SpawnOptions so;
    so.argv = {PipelineBin(), "task", "import", dir / "big.jsonl", "--root", root};
    auto child = Spawn(so);
    ASSERT_TRUE(child.ok()) << child.message();
    int64_t delay = std::uniform_int_distribution<int64_t>(0, full_us * 12 / 10)(rng);
    timespec ts{static_cast<time_t>(delay / 1000000), static_cast<long>(delay % 1000000) * 1000};
    nanosleep(&ts, nullptr);
    kill(child->pid, SIGKILL);
    int status = 0;
    waitpid(child->pid, &status, 0);

    auto db = Db::Open(root + "/pipeline.db", false);
    ASSERT_TRUE(db.ok()) << db.message();
    auto check = (*db)->Prepare("PRAGMA integrity_check");
    ASSERT_TRUE(check.ok());
    ASSERT_TRUE(*check->Step());
    EXPECT_EQ(check->Text(0), "ok");
    int64_t tasks = Count(**db, "SELECT COUNT(*) FROM tasks");
    EXPECT_TRUE(tasks == 0 || tasks == kTasks) << "round " << round << ": " << tasks << " tasks";
    EXPECT_EQ(Count(**db, "SELECT COUNT(*) FROM comments"), tasks);
    EXPECT_EQ(Count(**db, "SELECT COUNT(*) FROM task_tags"), tasks);
    EXPECT_EQ(Count(**db, "SELECT COUNT(*) FROM task_deps"), tasks == 0 ? 0 : kTasks - 1);
    EXPECT_EQ(Count(**db, "SELECT value FROM meta WHERE key = 'next_task_seq'"), 1);  // no t-N ids imported
    (tasks == 0 ? none : all)++;
    // The store stays usable: the next writer gets through.
    auto next = testing::RunPipeline({"task", "create", "after the kill", "--root", root});
    EXPECT_EQ(next.exit.exit_code, 0) << next.err;
  }
  printf("import of %d tasks: %lld us; kills before commit: %d, after: %d\n", kTasks, static_cast<long long>(full_us), none, all);
  RecordProperty("killed_before_commit", none);
  RecordProperty("killed_after_commit", all);
}

}  // namespace
}  // namespace pipeline
