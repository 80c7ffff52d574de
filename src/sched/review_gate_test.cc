#include "sched/review_gate.h"

#include <gtest/gtest.h>

#include "store/schema.h"
#include "tasks/task_store.h"

namespace pipeline {
namespace {

class ReviewGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Db::Open(":memory:", true);
    ASSERT_TRUE(db.ok()) << db.message();
    db_ = std::move(db).value();
    ASSERT_TRUE(Migrate(*db_).ok());
    store_ = std::make_unique<TaskStore>(*db_, clock_);
    NewTask n;
    n.title = "add a flag";
    auto t = store_->Create(n);
    ASSERT_TRUE(t.ok()) << t.message();
    id_ = t->id;
  }

  void MoveTo(TaskStatus s) { ASSERT_TRUE(store_->SetStatus(id_, s).ok()); }
  Task Now() { return *store_->Get(id_); }

  FakeClock clock_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<TaskStore> store_;
  std::string id_;
};

TEST_F(ReviewGateTest, ApproveMovesReviewToVerifiedWithAComment) {
  MoveTo(TaskStatus::kReview);
  auto t = ApproveTask(*db_, clock_, id_, "human");
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(t->status, TaskStatus::kVerified);
  Task now = Now();
  EXPECT_EQ(now.status, TaskStatus::kVerified);
  ASSERT_FALSE(now.comments.empty());
  EXPECT_EQ(now.comments.back().text, "Approved by human");
  EXPECT_EQ(now.comments.back().author, "human");
  EXPECT_EQ(now.patchset, 0);
}

TEST_F(ReviewGateTest, RejectReopensAsANewPatchsetWithFeedback) {
  MoveTo(TaskStatus::kReview);
  ASSERT_TRUE(db_->Exec("UPDATE tasks SET retries = 2, not_before = 99 WHERE id = '" + id_ + "'").ok());
  auto t = RejectTask(*db_, clock_, id_, "the flag is not documented", "agent:reviewer");
  ASSERT_TRUE(t.ok()) << t.message();
  Task now = Now();
  EXPECT_EQ(now.status, TaskStatus::kOpen);
  EXPECT_EQ(now.patchset, 1);
  EXPECT_EQ(now.retries, 0);
  EXPECT_EQ(now.not_before, 0);
  ASSERT_TRUE(now.feedback.has_value());
  EXPECT_EQ(*now.feedback, "the flag is not documented");
  ASSERT_FALSE(now.comments.empty());
  EXPECT_EQ(now.comments.back().text, "Rejected by agent:reviewer: the flag is not documented");
}

TEST_F(ReviewGateTest, RefusesTasksNotInReviewAndChangesNothing) {
  for (TaskStatus s : {TaskStatus::kOpen, TaskStatus::kInProgress, TaskStatus::kVerified, TaskStatus::kDone}) {
    MoveTo(s);
    auto a = ApproveTask(*db_, clock_, id_);
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.kind(), ErrorKind::kRefused);
    EXPECT_NE(a.message().find(std::string("it is ") + TaskStatusName(s)), std::string::npos) << a.message();
    auto r = RejectTask(*db_, clock_, id_, "no");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.kind(), ErrorKind::kRefused);
    Task now = Now();
    EXPECT_EQ(now.status, s);
    EXPECT_EQ(now.patchset, 0);
    EXPECT_TRUE(now.comments.empty());
    EXPECT_FALSE(now.feedback.has_value());
  }
}

TEST_F(ReviewGateTest, SecondVerdictLosesTheRace) {
  MoveTo(TaskStatus::kReview);
  ASSERT_TRUE(ApproveTask(*db_, clock_, id_).ok());
  auto again = RejectTask(*db_, clock_, id_, "too late");
  EXPECT_EQ(again.kind(), ErrorKind::kRefused);
  EXPECT_EQ(Now().status, TaskStatus::kVerified);
  EXPECT_EQ(Now().comments.size(), 1u);
}

TEST_F(ReviewGateTest, UnknownTaskBadAuthorAndEmptyReason) {
  EXPECT_EQ(ApproveTask(*db_, clock_, "t-999").kind(), ErrorKind::kNotFound);
  EXPECT_EQ(RejectTask(*db_, clock_, "t-999", "why").kind(), ErrorKind::kNotFound);
  MoveTo(TaskStatus::kReview);
  EXPECT_EQ(ApproveTask(*db_, clock_, id_, "Bob Smith").kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(RejectTask(*db_, clock_, id_, "  ").kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(Now().status, TaskStatus::kReview);
}

}  // namespace
}  // namespace pipeline
