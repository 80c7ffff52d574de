#include "sched/review_gate.h"
#include "store/store_testing.h"

#include <gtest/gtest.h>

#include "store/schema.h"
#include "tasks/task_store.h"

namespace pipeline {
namespace {

class ReviewGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = store_testing::OpenMemoryStore();
    ASSERT_TRUE(db_);
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

// The reviewer's "no" counts against the same cap as failed verifications:
// the rejection that reaches max_patchsets sends the task to needs-help.
TEST_F(ReviewGateTest, RejectAtThePatchsetCapNeedsHelp) {
  MoveTo(TaskStatus::kReview);
  auto first = RejectTask(*db_, clock_, id_, "no tests", "human", /*max_patchsets=*/2);
  ASSERT_TRUE(first.ok()) << first.message();
  EXPECT_EQ(first->status, TaskStatus::kOpen);
  EXPECT_EQ(first->patchset, 1);

  MoveTo(TaskStatus::kReview);
  auto second = RejectTask(*db_, clock_, id_, "still no tests", "human", /*max_patchsets=*/2);
  ASSERT_TRUE(second.ok()) << second.message();
  EXPECT_EQ(second->status, TaskStatus::kNeedsHelp);
  Task now = Now();
  EXPECT_EQ(now.status, TaskStatus::kNeedsHelp);
  EXPECT_EQ(now.patchset, 2);
  EXPECT_EQ(now.retries, 0);
  ASSERT_TRUE(now.feedback.has_value());
  EXPECT_EQ(*now.feedback, "still no tests");
  ASSERT_GE(now.comments.size(), 2u);
  EXPECT_EQ(now.comments[now.comments.size() - 2].text, "Rejected by human: still no tests");
  EXPECT_EQ(now.comments.back().text, "Pipeline: 2 patchsets were rejected (limit 2); needs help");
  EXPECT_EQ(now.comments.back().author, "system");
}

TEST_F(ReviewGateTest, RejectBelowTheDefaultCapReopens) {
  for (int i = 1; i < kDefaultMaxPatchsets; ++i) {
    MoveTo(TaskStatus::kReview);
    auto t = RejectTask(*db_, clock_, id_, "again");
    ASSERT_TRUE(t.ok()) << t.message();
    EXPECT_EQ(t->status, TaskStatus::kOpen) << "rejection " << i;
  }
  MoveTo(TaskStatus::kReview);
  auto last = RejectTask(*db_, clock_, id_, "again");
  ASSERT_TRUE(last.ok()) << last.message();
  EXPECT_EQ(last->status, TaskStatus::kNeedsHelp);
  EXPECT_EQ(last->patchset, kDefaultMaxPatchsets);
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
