#include "tasks/task_store.h"
#include "store/store_testing.h"

#include <gtest/gtest.h>

#include <sstream>

#include "store/schema.h"

namespace pipeline {
namespace {

class TaskStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = store_testing::OpenMemoryStore();
    ASSERT_TRUE(db_);
    store_ = std::make_unique<TaskStore>(*db_, clock_);
  }

  Task MustCreate(const std::string& title, NewTask n = {}) {
    n.title = title;
    auto t = store_->Create(n);
    EXPECT_TRUE(t.ok()) << t.message();
    clock_.Advance(1000);
    return t.ok() ? *t : Task{};
  }

  std::string ExportText() {
    std::ostringstream out;
    EXPECT_TRUE(store_->Export(out).ok());
    return out.str();
  }

  std::vector<std::string> ReadyIds() {
    auto r = store_->Ready();
    EXPECT_TRUE(r.ok());
    std::vector<std::string> ids;
    for (const auto& t : *r) ids.push_back(t.id);
    return ids;
  }

  FakeClock clock_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<TaskStore> store_;
};

TEST_F(TaskStoreTest, CreateAssignsSequentialIdsAndDefaults) {
  Task a = MustCreate("first");
  Task b = MustCreate("second");
  EXPECT_EQ(a.id, "t-1");
  EXPECT_EQ(b.id, "t-2");
  EXPECT_LT(a.seq, b.seq);
  EXPECT_EQ(a.status, TaskStatus::kOpen);
  EXPECT_EQ(a.priority, 2);
  EXPECT_EQ(a.type, "work");
  EXPECT_EQ(a.created_at, 1'790'000'000'000'000);
  EXPECT_EQ(a.updated_at, a.created_at);
}

TEST_F(TaskStoreTest, CreateKeepsEveryOption) {
  MustCreate("parent", {.type = "epic"});
  MustCreate("dep");
  NewTask n;
  n.parent = "t-1";
  n.ns = "Omni/Pipeline.hs";
  n.priority = 0;
  n.complexity = 3;
  n.deps = {"t-2"};
  n.description = "multi\nline";
  n.tags = {"b", "a"};
  Task t = MustCreate("child", n);
  auto got = store_->Get(t.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->parent, "t-1");
  EXPECT_EQ(got->ns, "Omni/Pipeline.hs");
  EXPECT_EQ(got->priority, 0);
  EXPECT_EQ(got->complexity, 3);
  EXPECT_EQ(got->deps, std::vector<std::string>{"t-2"});
  EXPECT_EQ(got->description, "multi\nline");
  EXPECT_EQ(got->tags, (std::vector<std::string>{"a", "b"}));
}

TEST_F(TaskStoreTest, CreateRefusesUnknownParentOrDepAndChangesNothing) {
  MustCreate("one");
  std::string before = ExportText();
  NewTask n;
  n.title = "x";
  n.parent = "t-99";
  EXPECT_EQ(store_->Create(n).kind(), ErrorKind::kNotFound);
  n.parent.reset();
  n.deps = {"t-1", "../t-1"};
  EXPECT_EQ(store_->Create(n).kind(), ErrorKind::kNotFound);
  n.deps.clear();
  n.title = "bad \xfe";
  EXPECT_EQ(store_->Create(n).kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(ExportText(), before);
  EXPECT_EQ(MustCreate("next").id, "t-2");  // the sequence did not move
}

TEST_F(TaskStoreTest, GetUnknownIsNotFound) { EXPECT_EQ(store_->Get("t-1").kind(), ErrorKind::kNotFound); }

TEST_F(TaskStoreTest, ReadyOrdersByPriorityThenAgeAndSkipsBlockedEpicsAndNonOpen) {
  MustCreate("low", {.priority = 4});       // t-1
  MustCreate("high", {.priority = 0});      // t-2
  MustCreate("mid-old");                    // t-3
  MustCreate("mid-new");                    // t-4
  MustCreate("epic", {.type = "epic"});     // t-5
  MustCreate("blocked", {.deps = {"t-3"}});  // t-6
  MustCreate("taken");                      // t-7
  ASSERT_TRUE(store_->SetStatus("t-7", TaskStatus::kInProgress).ok());
  EXPECT_EQ(ReadyIds(), (std::vector<std::string>{"t-2", "t-3", "t-4", "t-1"}));
  ASSERT_TRUE(store_->SetStatus("t-3", TaskStatus::kReview).ok());
  EXPECT_EQ(ReadyIds(), (std::vector<std::string>{"t-2", "t-4", "t-1"}));  // review is not done
  ASSERT_TRUE(store_->SetStatus("t-3", TaskStatus::kDone).ok());
  EXPECT_EQ(ReadyIds(), (std::vector<std::string>{"t-2", "t-4", "t-6", "t-1"}));
}

TEST_F(TaskStoreTest, ReadyLoadsDetailsForLargeResults) {
  // Above the scan threshold the details come from one scan per side table.
  for (int i = 0; i < 300; ++i) MustCreate("task " + std::to_string(i), {.tags = {"tag" + std::to_string(i)}});
  ASSERT_TRUE(store_->AddComment("t-250", "note", "system").ok());
  auto r = store_->Ready();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 300u);
  for (const Task& t : *r) {
    ASSERT_EQ(t.tags.size(), 1u);
    EXPECT_EQ(t.tags[0], "tag" + std::to_string(t.seq - 1));
    EXPECT_EQ(t.comments.size(), t.id == "t-250" ? 1u : 0u);
  }
}

TEST_F(TaskStoreTest, SetStatusIsUnconditionalAndTouches) {
  Task t = MustCreate("x");
  clock_.Advance(5);
  ASSERT_TRUE(store_->SetStatus(t.id, TaskStatus::kDone).ok());
  ASSERT_TRUE(store_->SetStatus(t.id, TaskStatus::kReview).ok());
  auto got = store_->Get(t.id);
  EXPECT_EQ(got->status, TaskStatus::kReview);
  EXPECT_EQ(got->updated_at, clock_.Now());
  EXPECT_EQ(store_->SetStatus("t-9", TaskStatus::kDone).kind(), ErrorKind::kNotFound);
}

TEST_F(TaskStoreTest, ClaimIsCompareAndSet) {
  Task t = MustCreate("x");
  EXPECT_TRUE(store_->Claim(t.id, TaskStatus::kOpen, TaskStatus::kInProgress).ok());
  Status again = store_->Claim(t.id, TaskStatus::kOpen, TaskStatus::kInProgress);
  EXPECT_EQ(again.kind(), ErrorKind::kRefused);
  EXPECT_NE(again.message().find("in-progress"), std::string::npos);
  EXPECT_EQ(store_->Get(t.id)->status, TaskStatus::kInProgress);
  EXPECT_EQ(store_->Claim("t-9", TaskStatus::kOpen, TaskStatus::kInProgress).kind(), ErrorKind::kNotFound);
}

TEST_F(TaskStoreTest, ClaimJoinsAnOuterTransaction) {
  Task t = MustCreate("x");
  Status s = db_->Write([&]() -> Status {
    PL_RETURN_IF_ERROR(store_->Claim(t.id, TaskStatus::kOpen, TaskStatus::kInProgress));
    return Conflict("the caller's next step failed");
  });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(store_->Get(t.id)->status, TaskStatus::kOpen);  // rolled back with the outer transaction
}

TEST_F(TaskStoreTest, CommentsKeepOrderAuthorAndTime) {
  Task t = MustCreate("x");
  auto c1 = store_->AddComment(t.id, "text with spaces", "human");
  clock_.Advance(10);
  auto c2 = store_->AddComment(t.id, "from agent", "agent:engineer");
  ASSERT_TRUE(c1.ok() && c2.ok());
  EXPECT_LT(*c1, *c2);
  auto got = store_->Get(t.id);
  ASSERT_EQ(got->comments.size(), 2u);
  EXPECT_EQ(got->comments[0].text, "text with spaces");
  EXPECT_EQ(got->comments[1].author, "agent:engineer");
  EXPECT_EQ(got->comments[1].created_at, clock_.Now());
  EXPECT_EQ(got->updated_at, clock_.Now());
  EXPECT_EQ(store_->AddComment(t.id, "x", "robot").kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(store_->AddComment("t-9", "x", "human").kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->Get(t.id)->comments.size(), 2u);
}

TEST_F(TaskStoreTest, DependenciesRefuseCyclesSelfAndUnknown) {
  MustCreate("a");
  MustCreate("b");
  MustCreate("c");
  ASSERT_TRUE(store_->AddDependency("t-1", "t-2").ok());
  ASSERT_TRUE(store_->AddDependency("t-2", "t-3").ok());
  Status cycle = store_->AddDependency("t-3", "t-1");
  EXPECT_EQ(cycle.kind(), ErrorKind::kRefused);
  EXPECT_NE(cycle.message().find("t-3 -> t-1 -> t-2 -> t-3"), std::string::npos) << cycle.message();
  EXPECT_EQ(store_->AddDependency("t-1", "t-1").kind(), ErrorKind::kRefused);
  EXPECT_EQ(store_->AddDependency("t-1", "t-9").kind(), ErrorKind::kNotFound);
  EXPECT_EQ(store_->AddDependency("t-9", "t-1").kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(store_->AddDependency("t-1", "t-2").ok());  // already there
  EXPECT_EQ(store_->Get("t-3")->deps.size(), 0u);
  ASSERT_TRUE(store_->RemoveDependency("t-2", "t-3").ok());
  EXPECT_EQ(store_->RemoveDependency("t-2", "t-3").kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(store_->AddDependency("t-3", "t-1").ok());  // no cycle any more
}

TEST_F(TaskStoreTest, ListFilters) {
  MustCreate("a", {.ns = "Omni/A.hs"});
  MustCreate("b", {.parent = "t-1", .ns = "Omni/B.hs"});
  MustCreate("c", {.ns = "Omni/A.hs"});
  ASSERT_TRUE(store_->SetStatus("t-3", TaskStatus::kReview).ok());
  auto ids = [](const Result<std::vector<Task>>& r) {
    std::vector<std::string> out;
    for (const auto& t : *r) out.push_back(t.id);
    return out;
  };
  EXPECT_EQ(ids(store_->List({})), (std::vector<std::string>{"t-1", "t-2", "t-3"}));
  EXPECT_EQ(ids(store_->List({.ns = "Omni/A.hs"})), (std::vector<std::string>{"t-1", "t-3"}));
  EXPECT_EQ(ids(store_->List({.status = TaskStatus::kReview})), (std::vector<std::string>{"t-3"}));
  EXPECT_EQ(ids(store_->List({.parent = "t-1"})), (std::vector<std::string>{"t-2"}));
}

TEST_F(TaskStoreTest, ExportImportRoundTripIsIdentical) {
  MustCreate("epic", {.type = "epic", .ns = "Omni/Pipeline.hs"});
  MustCreate("a", {.parent = "t-1", .priority = 1, .complexity = 2, .description = "d\n\"q\" \xc3\xa9",
                   .tags = {"x", "y"}});
  MustCreate("b", {.deps = {"t-2"}});
  ASSERT_TRUE(store_->AddComment("t-2", "hi \xe2\x9c\x93", "agent:reviewer").ok());
  ASSERT_TRUE(store_->SetStatus("t-2", TaskStatus::kVerified).ok());
  std::string first = ExportText();

  auto db2 = Db::Open(":memory:", true);
  ASSERT_TRUE(db2.ok());
  ASSERT_TRUE(Migrate(**db2).ok());
  FakeClock other(5);
  TaskStore store2(**db2, other);
  std::istringstream in(first);
  ASSERT_TRUE(store2.Import(in).ok());
  std::ostringstream out;
  ASSERT_TRUE(store2.Export(out).ok());
  EXPECT_EQ(out.str(), first);
  // The sequence moved past the imported ids.
  auto next = store2.Create({.title = "new"});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->id, "t-4");
}

TEST_F(TaskStoreTest, ImportIsAllOrNothingWithLineNumbers) {
  MustCreate("existing");
  std::string before = ExportText();
  auto try_import = [&](const std::string& text) {
    std::istringstream in(text);
    return store_->Import(in);
  };
  std::string good = R"({"taskId":"x-1","taskTitle":"one"})";
  Status s = try_import(good + "\n" + R"({"taskId":"x-2","taskTitle":"two","taskStatus":"bogus"})" + "\n");
  EXPECT_EQ(s.kind(), ErrorKind::kInvalidArgument);
  EXPECT_NE(s.message().find("line 2"), std::string::npos) << s.message();
  s = try_import(good + "\nnot json\n");
  EXPECT_NE(s.message().find("line 2"), std::string::npos);
  s = try_import(good + "\n" + R"({"taskId":"x-2","taskTitle":"t","taskDependencies":["nope"]})" + "\n");
  EXPECT_EQ(s.kind(), ErrorKind::kNotFound);
  s = try_import(R"({"taskId":"t-1","taskTitle":"dup of stored"})");
  EXPECT_EQ(s.kind(), ErrorKind::kRefused);
  s = try_import(good + "\n" + good + "\n");
  EXPECT_NE(s.message().find("line 2"), std::string::npos);
  s = try_import(R"({"taskId":"a","taskTitle":"a","taskDependencies":["b"]})" "\n"
                 R"({"taskId":"b","taskTitle":"b","taskDependencies":["a"]})" "\n");
  EXPECT_EQ(s.kind(), ErrorKind::kRefused);
  EXPECT_NE(s.message().find("cycle"), std::string::npos);
  s = try_import(R"({"taskId":"../etc","taskTitle":"x"})");
  EXPECT_EQ(s.kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(ExportText(), before);
  ASSERT_TRUE(try_import(good + "\n\n" + R"({"taskId":"t-40","taskTitle":"forty","taskDependencies":["x-1"]})").ok());
  EXPECT_EQ(MustCreate("after").id, "t-41");
  EXPECT_EQ(store_->Get("t-40")->deps, std::vector<std::string>{"x-1"});
}

}  // namespace
}  // namespace pipeline
