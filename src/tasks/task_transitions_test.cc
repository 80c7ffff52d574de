#include "tasks/task_transitions.h"
#include "store/store_testing.h"

#include <gtest/gtest.h>

#include "store/schema.h"
#include "tasks/task_store.h"

namespace pipeline {
namespace {

class TaskTransitionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = store_testing::OpenMemoryStore();
    ASSERT_TRUE(db_);
    store_ = std::make_unique<TaskStore>(*db_, clock_);
    NewTask n;
    n.title = "make it pass";
    auto t = store_->Create(n);
    ASSERT_TRUE(t.ok()) << t.message();
    id_ = t->id;
    ASSERT_TRUE(store_->SetStatus(id_, TaskStatus::kInProgress).ok());
  }
  Task Now() { return *store_->Get(id_); }

  FakeClock clock_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<TaskStore> store_;
  std::string id_;
};

TEST_F(TaskTransitionsTest, MovesOnlyFromTheExpectedStatus) {
  auto moved = MoveTask(*db_, id_, TaskStatus::kOpen, TaskStatus::kDone, 5);
  ASSERT_TRUE(moved.ok());
  EXPECT_FALSE(*moved);
  EXPECT_EQ(Now().status, TaskStatus::kInProgress);
  moved = MoveTaskForRetry(*db_, id_, TaskStatus::kInProgress, TaskStatus::kOpen, 2, 77, 5);
  ASSERT_TRUE(moved.ok());
  EXPECT_TRUE(*moved);
  Task now = Now();
  EXPECT_EQ(now.status, TaskStatus::kOpen);
  EXPECT_EQ(now.retries, 2);
  EXPECT_EQ(now.not_before, 77);
  auto status = TaskStatusOf(*db_, id_);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(*status, TaskStatus::kOpen);
  status = TaskStatusOf(*db_, "t-404");
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->has_value());
  EXPECT_EQ(TaskStatusText(*status, "gone"), "gone");
}

TEST_F(TaskTransitionsTest, RejectReopensUntilTheCapThenNeedsHelp) {
  Rejection r{"it does not build", "verification failed", "system", /*max_patchsets=*/3};
  for (int64_t patchset = 1; patchset <= 3; ++patchset) {
    ASSERT_TRUE(MoveTaskForRetry(*db_, id_, TaskStatus::kOpen, TaskStatus::kInProgress, 1, 9, 1).ok());
    auto out = RejectPatchset(*db_, id_, TaskStatus::kInProgress, r, 10);
    ASSERT_TRUE(out.ok()) << out.message();
    EXPECT_TRUE(out->moved);
    EXPECT_EQ(out->patchset, patchset);
    EXPECT_EQ(out->needs_help, patchset == 3);
    Task now = Now();
    EXPECT_EQ(now.status, patchset == 3 ? TaskStatus::kNeedsHelp : TaskStatus::kOpen);
    EXPECT_EQ(now.retries, 0);
    EXPECT_EQ(now.not_before, 0);
    EXPECT_EQ(now.feedback.value_or(""), "it does not build");
  }
  Task now = Now();
  ASSERT_EQ(now.comments.size(), 4u);
  EXPECT_EQ(now.comments[2].text, "verification failed");
  EXPECT_EQ(now.comments[3].text, "Pipeline: 3 patchsets were rejected (limit 3); needs help");
}

TEST_F(TaskTransitionsTest, RejectFromAnotherStatusChangesNothing) {
  auto out = RejectPatchset(*db_, id_, TaskStatus::kVerified, {"f", "c"}, 10);
  ASSERT_TRUE(out.ok()) << out.message();
  EXPECT_FALSE(out->moved);
  Task now = Now();
  EXPECT_EQ(now.status, TaskStatus::kInProgress);
  EXPECT_EQ(now.patchset, 0);
  EXPECT_TRUE(now.comments.empty());
  EXPECT_FALSE(now.feedback.has_value());
}

TEST_F(TaskTransitionsTest, RejectWithABadCommentChangesNothing) {
  auto out = RejectPatchset(*db_, id_, TaskStatus::kInProgress, {"f", std::string("nul\0byte", 8)}, 10);
  EXPECT_EQ(out.kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(Now().status, TaskStatus::kInProgress);
  EXPECT_EQ(Now().patchset, 0);
}

}  // namespace
}  // namespace pipeline
