// The filtered, paged form of `ready` (the scheduler's candidates, the counts
// of `status`) gives the same tasks as the whole list, filtered.
#include <gtest/gtest.h>

#include <algorithm>

#include "store/schema.h"
#include "store/store_testing.h"
#include "tasks/task_store.h"
#include "tasks/task_transitions.h"

namespace pipeline {
namespace {

class ReadyFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = store_testing::OpenMemoryStore();
    ASSERT_TRUE(db_);
    store_ = std::make_unique<TaskStore>(*db_, clock_);
    // t-1 blocks t-2..t-9; odd tasks have a namespace; priorities interleave.
    for (int i = 1; i <= 20; ++i) {
      NewTask n;
      n.title = "task " + std::to_string(i);
      if (i % 2) n.ns = "A";
      n.priority = i % 3;
      if (i > 1 && i < 10) n.deps = {"t-1"};
      auto t = store_->Create(n);
      ASSERT_TRUE(t.ok()) << t.message();
    }
    // t-11 waits out a back-off until 1000.
    ASSERT_TRUE(MoveTaskForRetry(*db_, "t-11", TaskStatus::kOpen, TaskStatus::kOpen, 1, 1000, 0).ok());
  }

  std::vector<std::string> Ids(const ReadyFilter& f) {
    auto r = store_->Ready(f);
    EXPECT_TRUE(r.ok()) << r.message();
    std::vector<std::string> ids;
    for (const Task& t : r.ok() ? *r : std::vector<Task>{}) ids.push_back(t.id);
    return ids;
  }

  FakeClock clock_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<TaskStore> store_;
};

TEST_F(ReadyFilterTest, PagesGiveTheWholeListInOrderWithoutBlockedTasks) {
  auto all = store_->Ready();
  ASSERT_TRUE(all.ok()) << all.message();
  std::vector<std::string> whole;
  for (const Task& t : *all) whole.push_back(t.id);
  ASSERT_EQ(whole.size(), 12u);  // 20 tasks less the 8 that t-1 blocks
  for (const std::string& id : whole) EXPECT_TRUE(id == "t-1" || id.size() == 4) << id;

  for (size_t limit : {1u, 2u, 3u, 7u, 50u}) {
    ReadyFilter f;
    f.limit = limit;
    std::vector<std::string> paged;
    while (true) {
      auto page = store_->Ready(f);
      ASSERT_TRUE(page.ok()) << page.message();
      for (const Task& t : *page) paged.push_back(t.id);
      if (page->size() < limit) break;
      f.after = std::make_pair(static_cast<int64_t>(page->back().priority), page->back().seq);
    }
    EXPECT_EQ(paged, whole) << "limit " << limit;
  }
}

TEST_F(ReadyFilterTest, NamespaceBackoffAndExclusionFilters) {
  ReadyFilter with_ns;
  with_ns.with_namespace = true;
  for (const std::string& id : Ids(with_ns)) {
    auto t = store_->Get(id);
    ASSERT_TRUE(t.ok());
    EXPECT_TRUE(t->ns.has_value()) << id;
  }
  ReadyFilter without_ns;
  without_ns.with_namespace = false;
  EXPECT_EQ(Ids(with_ns).size() + Ids(without_ns).size(), Ids(ReadyFilter{}).size());

  ReadyFilter due = with_ns;
  due.due_by = 999;
  auto before = Ids(due);
  EXPECT_EQ(std::count(before.begin(), before.end(), "t-11"), 0);
  due.due_by = 1000;
  auto after = Ids(due);
  EXPECT_EQ(std::count(after.begin(), after.end(), "t-11"), 1);

  ReadyFilter excluded = with_ns;
  excluded.excluded_namespaces = {"A"};
  EXPECT_TRUE(Ids(excluded).empty());

  ReadyFilter one;
  one.task_id = "t-2";  // blocked by t-1
  EXPECT_TRUE(Ids(one).empty());
  one.task_id = "t-10";
  EXPECT_EQ(Ids(one), std::vector<std::string>{"t-10"});
}

TEST_F(ReadyFilterTest, ADoneDependencyUnblocks) {
  ReadyFilter one;
  one.task_id = "t-3";
  EXPECT_TRUE(Ids(one).empty());
  ASSERT_TRUE(store_->SetStatus("t-1", TaskStatus::kDone).ok());
  EXPECT_EQ(Ids(one), std::vector<std::string>{"t-3"});
}

// The scheduler asks for the ready tasks without a namespace on every step;
// over a large backlog the status index would walk every open task to find
// the few without one. The plan SQLite picks for the statement Ready runs
// must use the namespace index.
TEST_F(ReadyFilterTest, TasksWithoutANamespaceAreFoundThroughTheNamespaceIndex) {
  std::vector<std::string> statements;
  sqlite3_trace_v2(
      db_->raw(), SQLITE_TRACE_STMT,
      [](unsigned, void* ctx, void* stmt, void*) {
        static_cast<std::vector<std::string>*>(ctx)->push_back(sqlite3_sql(static_cast<sqlite3_stmt*>(stmt)));
        return 0;
      },
      &statements);
  ReadyFilter f;
  f.with_namespace = false;
  f.limit = 50;
  EXPECT_EQ(Ids(f), (std::vector<std::string>{"t-12", "t-18", "t-10", "t-16", "t-14", "t-20"}));
  sqlite3_trace_v2(db_->raw(), 0, nullptr, nullptr);

  auto it = std::find_if(statements.begin(), statements.end(),
                         [](const std::string& s) { return s.find("namespace IS NULL") != std::string::npos; });
  ASSERT_NE(it, statements.end()) << "Ready ran no statement asking for namespace IS NULL";
  auto plan = db_->Prepare("EXPLAIN QUERY PLAN " + *it);
  ASSERT_TRUE(plan.ok()) << plan.message();
  std::string steps;
  while (true) {
    auto row = plan->Step();
    ASSERT_TRUE(row.ok()) << row.message();
    if (!*row) break;
    steps += plan->Text(3) + "\n";
  }
  EXPECT_NE(steps.find("tasks_by_namespace"), std::string::npos) << steps;
}

}  // namespace
}  // namespace pipeline
