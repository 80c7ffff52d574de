// `ready` against an oracle: the ids come from the statement `ready` used to
// be (one NOT EXISTS per candidate), and each task's text from Get (indexed
// lookups per task) dumped by nlohmann. Ready and AppendTaskJsonText must
// give the same bytes, whichever way the side tables are read.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "store/schema.h"
#include "store/store_testing.h"
#include "tasks/task_store.h"

namespace pipeline {
namespace {

class ReadyOracleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = store_testing::OpenMemoryStore();
    ASSERT_TRUE(db_);
    store_ = std::make_unique<TaskStore>(*db_, clock_);
  }

  std::vector<std::string> OldReadyIds() {
    auto s = db_->Prepare(
        "SELECT id FROM tasks WHERE status = 'open' AND type = 'work' AND NOT EXISTS ("
        "  SELECT 1 FROM task_deps d JOIN tasks u ON u.id = d.depends_on"
        "  WHERE d.task_id = tasks.id AND u.status <> 'done') "
        "ORDER BY priority, seq");
    EXPECT_TRUE(s.ok());
    auto ids = s->TextColumn();
    EXPECT_TRUE(ids.ok());
    return ids.ok() ? *ids : std::vector<std::string>{};
  }

  std::string Expected(const std::vector<std::string>& ids) {
    std::string out = "[";
    for (size_t i = 0; i < ids.size(); ++i) {
      auto t = store_->Get(ids[i]);
      EXPECT_TRUE(t.ok());
      if (i) out += ",";
      out += TaskToJson(*t).dump(-1, ' ', true);
    }
    return out + "]";
  }

  std::string Actual(size_t* count) {
    auto r = store_->Ready();
    EXPECT_TRUE(r.ok()) << r.message();
    std::string out = "[";
    for (size_t i = 0; r.ok() && i < r->size(); ++i) {
      if (i) out += ",";
      AppendTaskJsonText(&out, (*r)[i]);
    }
    *count = r.ok() ? r->size() : 0;
    return out + "]";
  }

  // Checks Ready against the oracle; returns how many tasks are ready.
  size_t ExpectSameAsOracle() {
    std::vector<std::string> ids = OldReadyIds();
    size_t count = 0;
    std::string actual = Actual(&count);
    EXPECT_EQ(count, ids.size());
    EXPECT_EQ(actual, Expected(ids));
    return count;
  }

  // A backlog with every kind of field: unicode, quotes, control
  // characters, null namespace/parent/complexity, epics, deps on tasks in
  // every status (epics too), tags and comments.
  void Fill(int n) {
    std::mt19937 rng(7);
    const std::string kWords[] = {"t\xc3\xa2" "che", "\xe2\x9c\x93 ok", "\xf0\x9f\x98\x80", "\"quoted\"",
                                  "back\\slash", "tab\there", "nul\x01" "ctl", "plain"};
    // One-line text (titles, tags) may hold no control characters.
    const std::string kTags[] = {"t\xc3\xa2" "che", "\xe2\x9c\x93 ok", "\xf0\x9f\x98\x80", "\"quoted\"", "back\\slash", "plain"};
    for (int i = 1; i <= n; ++i) {
      NewTask t;
      t.title = "task " + std::to_string(i) + " " + kTags[rng() % 6];
      t.type = rng() % 10 == 0 ? "epic" : "work";
      if (rng() % 3) t.ns = "Omni/" + kWords[rng() % 8 == 0 ? 0 : 7] + std::to_string(i % 7) + ".hs";
      if (i > 10 && rng() % 4 == 0) t.parent = "t-" + std::to_string(1 + rng() % 10);
      t.priority = static_cast<int>(rng() % 5);
      if (rng() % 2) t.complexity = static_cast<int>(1 + rng() % 5);
      t.description = kWords[rng() % 8] + "\n" + kWords[rng() % 8];
      if (rng() % 3 == 0)
        for (int k = 0; k < 3; ++k) t.tags.push_back(kTags[(i + k) % 6]);
      if (i > 1 && rng() % 2)
        for (int k = 0; k < 1 + static_cast<int>(rng() % 3); ++k) {
          std::string dep = "t-" + std::to_string(1 + rng() % (i - 1));
          if (std::find(t.deps.begin(), t.deps.end(), dep) == t.deps.end()) t.deps.push_back(dep);
        }
      auto created = store_->Create(t);
      ASSERT_TRUE(created.ok()) << created.message();
      clock_.Advance(1'000'003);
      if (rng() % 4 == 0) {
        ASSERT_TRUE(store_->AddComment(created->id, "note " + kWords[rng() % 8], rng() % 2 ? "human" : "agent:dev").ok());
      }
    }
    const TaskStatus kStatuses[] = {TaskStatus::kDone, TaskStatus::kDone,       TaskStatus::kOpen,
                                    TaskStatus::kOpen, TaskStatus::kInProgress, TaskStatus::kReview,
                                    TaskStatus::kNeedsHelp, TaskStatus::kVerified};
    for (int i = 1; i <= n; ++i)
      ASSERT_TRUE(store_->SetStatus("t-" + std::to_string(i), kStatuses[rng() % 8]).ok());
  }

  FakeClock clock_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<TaskStore> store_;
};

TEST_F(ReadyOracleTest, ManyReadyTasksSmallSideTables) {
  Fill(2400);
  size_t ready = ExpectSameAsOracle();
  EXPECT_GT(ready, 200u);  // above the per-task lookups: the side tables are scanned
  EXPECT_LT(ready, OldReadyIds().size() + 1);
}

TEST_F(ReadyOracleTest, LargeSideTablesAreLookedUpByIdSameBytes) {
  Fill(2400);
  // Comments and tags pile up on done tasks, far more rows than ready tasks.
  ASSERT_TRUE(db_->Exec("WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 12) "
                        "INSERT INTO comments (task_id, text, author, created_at) "
                        "SELECT id, 'old \xc3\xa9 ' || n, 'system', created_at + n FROM tasks, k WHERE status = 'done'")
                  .ok());
  ASSERT_TRUE(db_->Exec("WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 12) "
                        "INSERT OR IGNORE INTO task_tags (task_id, tag) "
                        "SELECT id, 'old-' || n FROM tasks, k WHERE status = 'done'")
                  .ok());
  // And a few land on ready tasks after them, so ids interleave.
  for (const std::string& id : OldReadyIds()) {
    if (id.back() == '3') {
      ASSERT_TRUE(store_->AddComment(id, "late \xe2\x9c\x93", "system").ok());
    }
  }
  EXPECT_GT(ExpectSameAsOracle(), 200u);
}

TEST_F(ReadyOracleTest, FewReadyTasksAndDependenciesOnMissingTasks) {
  Fill(400);
  // Everything open but a handful is finished: the per-task lookup path.
  std::vector<std::string> ids = OldReadyIds();
  for (size_t i = 5; i < ids.size(); ++i) ASSERT_TRUE(store_->SetStatus(ids[i], TaskStatus::kDone).ok());
  // A dependency row whose task does not exist blocks nothing (the old join).
  ASSERT_TRUE(store_->Create({.title = "orphan dep"}).ok());
  std::string orphan = "t-401";
  ASSERT_TRUE(db_->Exec("INSERT INTO task_deps (task_id, depends_on) VALUES ('t-401', 'ghost')").ok());
  size_t ready = ExpectSameAsOracle();
  EXPECT_GT(ready, 0u);
  EXPECT_LE(ready, 200u);
  auto r = store_->Ready();
  ASSERT_TRUE(r.ok());
  bool found = false;
  for (const Task& t : *r)
    if (t.id == orphan) found = t.deps == std::vector<std::string>{"ghost"};
  EXPECT_TRUE(found);
}

TEST_F(ReadyOracleTest, BlockedByOpenTasksAndEpicsButNotByDone) {
  Task a = *store_->Create({.title = "a"});
  Task epic = *store_->Create({.title = "e", .type = "epic"});
  Task b = *store_->Create({.title = "b", .deps = {a.id}});
  Task c = *store_->Create({.title = "c", .deps = {epic.id}});
  std::vector<std::string> want = {a.id};
  EXPECT_EQ(OldReadyIds(), want);
  ASSERT_TRUE(store_->SetStatus(a.id, TaskStatus::kDone).ok());
  ASSERT_TRUE(store_->SetStatus(epic.id, TaskStatus::kDone).ok());
  want = {b.id, c.id};
  EXPECT_EQ(OldReadyIds(), want);
  ExpectSameAsOracle();
}

// The text writer's times against FormatIso8601 (through the library dump),
// across leap days, centuries, the epoch and before it.
TEST(TaskJsonTextTimeTest, TimesMatchTheLibraryDump) {
  std::vector<Micros> times = {0, -1, 1, -1'000'000, 951'782'400'000'000 /* 2000-02-29 */,
                               4'107'542'399'999'999 /* 2100-02-28T23:59:59.999999 */,
                               -2'208'988'800'000'000 /* 1900-01-01 */, 253'402'300'799'999'999 /* 9999-12-31 */,
                               1'790'000'000'123'456};
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i)
    times.push_back(static_cast<Micros>(rng() % 253'402'300'800'000'000ULL) - 62'135'596'800'000'000LL / 2);
  for (Micros t : times) {
    Task task;
    task.id = "x";
    task.created_at = t;
    task.updated_at = -t / 3;
    task.comments.push_back({0, "c", "human", t / 7});
    std::string text;
    AppendTaskJsonText(&text, task);
    ASSERT_EQ(text, TaskToJson(task).dump(-1, ' ', true)) << t;
  }
}

}  // namespace
}  // namespace pipeline
