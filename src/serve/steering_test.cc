#include "serve/steering.h"
#include "store/store_testing.h"

#include <gtest/gtest.h>

#include "sched/sched_sql.h"
#include "store/schema.h"
#include "tasks/domain_pause.h"
#include "tasks/task_store.h"

namespace pipeline::serve {
namespace {

using nlohmann::json;

class SteeringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = store_testing::OpenMemoryStore();
    ASSERT_TRUE(db_);
    auto t = CreateTaskAction(*db_, clock_, json{{"title", "a task"}, {"namespace", "web"}});
    ASSERT_TRUE(t.ok()) << t.message();
    id_ = (*t)["taskId"];
  }
  Task Get() { return *TaskStore(*db_, clock_).Get(id_); }
  void MoveTo(TaskStatus s) { ASSERT_TRUE(TaskStore(*db_, clock_).SetStatus(id_, s).ok()); }

  FakeClock clock_;
  std::unique_ptr<Db> db_;
  std::string id_;
};

TEST_F(SteeringTest, LineCommentsBecomeOneFeedbackText) {
  MoveTo(TaskStatus::kReview);
  auto r = RejectAction(*db_, clock_, id_,
                        json{{"why", "Nearly"},
                             {"line_comments", {{{"file", "a.cc"}, {"line", 3}, {"text", "rename"}},
                                                {{"file", "b.cc"}, {"line", 9}, {"text", "drop"}}}}});
  ASSERT_TRUE(r.ok()) << r.message();
  Task t = Get();
  EXPECT_EQ(t.status, TaskStatus::kOpen);
  EXPECT_EQ(t.patchset, 1);
  ASSERT_TRUE(t.feedback.has_value());
  EXPECT_EQ(*t.feedback, "Nearly\n\nComments on lines of the diff:\n- a.cc:3: rename\n- b.cc:9: drop\n");
}

TEST_F(SteeringTest, LineCommentsAloneAreEnoughToReject) {
  MoveTo(TaskStatus::kReview);
  ASSERT_TRUE(RejectAction(*db_, clock_, id_,
                           json{{"line_comments", {{{"file", "a.cc"}, {"line", 1}, {"text", "why?"}}}}})
                  .ok());
  EXPECT_NE(Get().feedback->find("- a.cc:1: why?"), std::string::npos);
}

TEST_F(SteeringTest, BadInputChangesNothing) {
  MoveTo(TaskStatus::kReview);
  const Task before = Get();
  EXPECT_EQ(RejectAction(*db_, clock_, id_, json::object()).kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(RejectAction(*db_, clock_, id_, json{{"why", "x"}, {"extra", 1}}).kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(RejectAction(*db_, clock_, id_, json{{"line_comments", {{{"file", "a"}, {"line", "3"}, {"text", "t"}}}}})
                .kind(),
            ErrorKind::kInvalidArgument);
  EXPECT_EQ(CommentAction(*db_, clock_, id_, json{{"text", ""}}).kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(CreateTaskAction(*db_, clock_, json{{"title", "x"}, {"priority", 7}}).kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(GrantAction(*db_, clock_, ServeContext{}, "web", json{{"cents", 0}}).kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(PauseAction(*db_, clock_, "a\nb", true).kind(), ErrorKind::kInvalidArgument);
  const Task after = Get();
  EXPECT_EQ(after.status, before.status);
  EXPECT_EQ(after.comments.size(), before.comments.size());
  EXPECT_EQ(TaskStore(*db_, clock_).List({})->size(), 1u);
  EXPECT_TRUE(PausedDomains(*db_)->empty());
}

TEST_F(SteeringTest, RetryReopensANeedsHelpTaskWithItsCountersReset) {
  MoveTo(TaskStatus::kNeedsHelp);
  ASSERT_TRUE(db_->Exec("UPDATE tasks SET retries = 3, not_before = 99").ok());
  auto r = RetryAction(*db_, clock_, id_);
  ASSERT_TRUE(r.ok()) << r.message();
  Task t = Get();
  EXPECT_EQ(t.status, TaskStatus::kOpen);
  EXPECT_EQ(t.retries, 0);
  EXPECT_EQ(t.not_before, 0);
  MoveTo(TaskStatus::kDone);
  EXPECT_EQ(RetryAction(*db_, clock_, id_).kind(), ErrorKind::kRefused);
}

TEST_F(SteeringTest, CancelParksTheTaskInNeedsHelp) {
  MoveTo(TaskStatus::kInProgress);
  auto r = CancelAction(*db_, clock_, ServeContext{}, id_);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(Get().status, TaskStatus::kNeedsHelp);
  EXPECT_EQ(CancelAction(*db_, clock_, ServeContext{}, id_).kind(), ErrorKind::kRefused);
  EXPECT_EQ(CancelAction(*db_, clock_, ServeContext{}, "t-99").kind(), ErrorKind::kNotFound);
}

TEST_F(SteeringTest, PauseAndResumeAreIdempotent) {
  ASSERT_TRUE(PauseAction(*db_, clock_, "web", true).ok());
  ASSERT_TRUE(PauseAction(*db_, clock_, "web", true).ok());
  EXPECT_EQ(*PausedDomains(*db_), std::set<std::string>{"web"});
  ASSERT_TRUE(PauseAction(*db_, clock_, "web", false).ok());
  ASSERT_TRUE(PauseAction(*db_, clock_, "web", false).ok());
  EXPECT_TRUE(PausedDomains(*db_)->empty());
}

}  // namespace
}  // namespace pipeline::serve
