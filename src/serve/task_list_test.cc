#include "serve/task_list.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <nlohmann/json.hpp>

#include "store/schema.h"
#include "tasks/task_store.h"
#include "util/files.h"

namespace pipeline::serve {
namespace {

using nlohmann::json;

// A store in a file: the cache's stamp needs a second connection to it.
class TaskListTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/task-list-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/pipeline.db";
    auto db = Db::Open(path_, true);
    ASSERT_TRUE(db.ok()) << db.message();
    db_ = std::move(db).value();
    ASSERT_TRUE(Migrate(*db_).ok());
    auto other = Db::Open(path_, false);
    ASSERT_TRUE(other.ok()) << other.message();
    other_ = std::move(other).value();
  }
  void TearDown() override {
    db_.reset();
    other_.reset();
    (void)RemoveAll(dir_);
  }
  std::string Create(Db& db, const std::string& title, TaskStatus s = TaskStatus::kOpen) {
    TaskStore store(db, clock_);
    NewTask t;
    t.title = title;
    t.ns = "web";
    auto created = store.Create(t);
    EXPECT_TRUE(created.ok()) << created.message();
    if (s != TaskStatus::kOpen) {
      EXPECT_TRUE(store.SetStatus(created->id, s).ok());
    }
    return created->id;
  }
  json List(const TaskListRows& rows, const std::optional<std::string>& status = std::nullopt) {
    json j = json::parse(TaskListJson(rows, clock_.Now(), status), nullptr, false);
    EXPECT_FALSE(j.is_discarded());
    return j;
  }

  FakeClock clock_;
  std::string dir_, path_;
  std::unique_ptr<Db> db_, other_;
};

TEST_F(TaskListTest, RowsAreTheTasksAsJsonWithTheQuestionOfANeedsHelpTask) {
  std::string a = Create(*db_, "plain");
  std::string b = Create(*db_, "quote \" backslash \\ and \xc3\xa9 and \xe2\x82\xac", TaskStatus::kNeedsHelp);
  ASSERT_TRUE(TaskStore(*db_, clock_).AddComment(b, "Which one?\nThis\tor \"that\"", "agent:dev").ok());
  auto rows = ReadTaskListRows(*db_, nullptr);
  ASSERT_TRUE(rows.ok()) << rows.message();
  json j = List(*rows);
  ASSERT_EQ(j.size(), 2u) << j.dump();
  EXPECT_EQ(j[0]["id"], a);
  EXPECT_EQ(j[0]["status"], "open");
  EXPECT_EQ(j[0]["namespace"], "web");
  EXPECT_FALSE(j[0].contains("question"));
  EXPECT_EQ(j[1]["title"], "quote \" backslash \\ and \xc3\xa9 and \xe2\x82\xac");
  EXPECT_EQ(j[1]["question"], "Which one?\nThis\tor \"that\"");
  EXPECT_EQ(List(*rows, "needs-help").size(), 1u);
  EXPECT_EQ(List(*rows, "done").size(), 0u);
}

TEST_F(TaskListTest, IdsSelectOnlyThoseTasks) {
  Create(*db_, "one");
  std::string two = Create(*db_, "two", TaskStatus::kNeedsHelp);
  ASSERT_TRUE(TaskStore(*db_, clock_).AddComment(two, "Why?", "agent:dev").ok());
  Create(*db_, "three");
  std::vector<std::string> ids = {two, "t-404"};
  auto rows = ReadTaskListRows(*db_, &ids);
  ASSERT_TRUE(rows.ok()) << rows.message();
  json j = List(*rows);
  ASSERT_EQ(j.size(), 1u) << j.dump();
  EXPECT_EQ(j[0]["id"], two);
  EXPECT_EQ(j[0]["question"], "Why?");
}

TEST_F(TaskListTest, BackoffIsTheTimeLeftWhenSent) {
  std::string id = Create(*db_, "backed off");
  ASSERT_TRUE(db_->Exec("UPDATE tasks SET not_before = " + std::to_string(clock_.Now() + 30'000'000) +
                        " WHERE id = '" + id + "'").ok());
  auto rows = ReadTaskListRows(*db_, nullptr);
  ASSERT_TRUE(rows.ok());
  EXPECT_DOUBLE_EQ(List(*rows)[0]["backoff_s"].get<double>(), 30.0);
  clock_.Advance(20'000'000);
  EXPECT_DOUBLE_EQ(List(*rows)[0]["backoff_s"].get<double>(), 10.0);
  clock_.Advance(20'000'000);
  EXPECT_FALSE(List(*rows)[0].contains("backoff_s"));
}

TEST_F(TaskListTest, CacheIsRebuiltAfterACommitByAnyConnectionAndOnlyThen) {
  TaskListCache cache(path_);
  Create(*db_, "first");
  auto r1 = cache.Rows(*db_);
  ASSERT_TRUE(r1.ok()) << r1.message();
  EXPECT_EQ((*r1)->size(), 1u);
  auto again = cache.Rows(*db_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), r1->get()) << "nothing committed: the same rows";
  EXPECT_EQ(cache.builds(), 1);

  Create(*other_, "by another connection");
  auto r2 = cache.Rows(*db_);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ((*r2)->size(), 2u);

  Create(*db_, "by the reading connection");
  auto r3 = cache.Rows(*db_);
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ((*r3)->size(), 3u);
  EXPECT_EQ(cache.builds(), 3);
}

}  // namespace
}  // namespace pipeline::serve
