#include "serve/notifier.h"
#include "store/store_testing.h"

#include <gtest/gtest.h>

#include "sched/merge_queue.h"
#include "sched/sched_sql.h"
#include "store/schema.h"
#include "tasks/task_store.h"

namespace pipeline::serve {
namespace {

class NotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = store_testing::OpenMemoryStore();
    ASSERT_TRUE(db_);
    for (const char* title : {"one", "two"}) {
      NewTask n;
      n.title = title;
      ASSERT_TRUE(TaskStore(*db_, clock_).Create(n).ok());
    }
  }
  void Event(const std::string& id, TaskStatus to, const std::string& kind, const std::string& detail) {
    ASSERT_TRUE(TaskStore(*db_, clock_).SetStatus(id, to).ok());
    ASSERT_TRUE(AddEvent(*db_, clock_.Now(), id, std::nullopt, kind, detail).ok());
  }

  FakeClock clock_;
  std::unique_ptr<Db> db_;
};

TEST_F(NotifierTest, TransitionsIntoNeedsHelpReviewAndFailures) {
  auto mark = LoadNotifyMark(*db_);
  ASSERT_TRUE(mark.ok());
  EXPECT_EQ(*mark, 0);
  ASSERT_TRUE(TaskStore(*db_, clock_).AddComment("t-1", "Which one?", "agent:dev").ok());
  Event("t-1", TaskStatus::kNeedsHelp, "failure", "needs-help: the agent asked a question");
  Event("t-2", TaskStatus::kReview, "harvest", "dev run done");
  Event("t-2", TaskStatus::kOpen, "start", "domain=x");  // not a notification
  Event("t-2", TaskStatus::kOpen, "failure", "retry: exit 1");
  auto b = CollectNotifications(*db_, *mark, "http://h/");
  ASSERT_TRUE(b.ok()) << b.message();
  ASSERT_EQ(b->notifications.size(), 2u);
  EXPECT_EQ(b->notifications[0]["event"], "needs-help");
  EXPECT_EQ(b->notifications[0]["question"], "Which one?");
  EXPECT_EQ(b->notifications[0]["link"], "http://h/#/task/t-1");
  // t-2 is open now: the harvest into review is no longer a review to do,
  // and its failure is.
  EXPECT_EQ(b->notifications[1]["event"], "failed");
  EXPECT_EQ(b->next_mark, 4);
}

TEST_F(NotifierTest, TheMarkPersistsAndMovesOnlyFromWhereItWas) {
  Event("t-1", TaskStatus::kNeedsHelp, "failure", "needs-help: x");
  // A first start begins at the newest event: history is not sent.
  auto mark = LoadNotifyMark(*db_);
  ASSERT_TRUE(mark.ok());
  EXPECT_EQ(*mark, 1);
  EXPECT_TRUE(CollectNotifications(*db_, *mark, "")->notifications.empty());
  Event("t-2", TaskStatus::kNeedsHelp, "failure", "needs-help: y");
  EXPECT_TRUE(*AdvanceNotifyMark(*db_, 1, 2));
  EXPECT_FALSE(*AdvanceNotifyMark(*db_, 1, 2));  // a second server lost the race
  EXPECT_EQ(*LoadNotifyMark(*db_), 2);
}

TEST_F(NotifierTest, BaseRedIsOneNotificationPerTransition) {
  auto mark = LoadNotifyMark(*db_);
  ASSERT_TRUE(mark.ok());
  auto verdict = [&](const char* kind, const std::string& detail, std::optional<std::string> run = std::nullopt) {
    ASSERT_TRUE(AddEvent(*db_, clock_.Now(), std::nullopt, run, kind, detail).ok());
  };
  // What the merge queue writes at each red verdict of its base.
  std::string output(20000, 'x');
  output += "\nFAILED: test_parser";
  verdict("base-red", BaseRedDetail("main", "abc123", output), std::string("pipeline-integrate-7"));
  // A recheck that finds it still red: written again, but no news.
  verdict("base-red", BaseRedDetail("main", "abc123", "same failure"));
  Event("t-1", TaskStatus::kReview, "harvest", "dev run done");
  verdict("base-green", "main passes its check again at def456");
  // Red again after a green: a second transition, a second notification.
  verdict("base-red", BaseRedDetail("main", "0badc0de", "still red"));
  auto b = CollectNotifications(*db_, *mark, "http://h/");
  ASSERT_TRUE(b.ok()) << b.message();
  ASSERT_EQ(b->notifications.size(), 3u);
  const auto& n = b->notifications[0];
  EXPECT_EQ(n["event"], "base-red");
  EXPECT_EQ(n["base"], "main");
  EXPECT_TRUE(n["task_id"].is_null());
  EXPECT_EQ(n["run_id"], "pipeline-integrate-7");
  EXPECT_EQ(n["link"], "http://h/#/queue");
  // The tail of the output, which says why, within a bound.
  std::string reason = n["reason"];
  EXPECT_LT(reason.size(), output.size());
  EXPECT_NE(reason.find("FAILED: test_parser"), std::string::npos);
  EXPECT_EQ(b->notifications[1]["event"], "review");
  EXPECT_EQ(b->notifications[2]["event"], "base-red");
  EXPECT_EQ(b->notifications[2]["reason"], "still red");
}

TEST_F(NotifierTest, BaseRedWithPlainTextDetailKeepsTheText) {
  auto mark = LoadNotifyMark(*db_);
  ASSERT_TRUE(mark.ok());
  ASSERT_TRUE(AddEvent(*db_, clock_.Now(), std::nullopt, std::nullopt, "base-red", "make check: 2 failures").ok());
  auto b = CollectNotifications(*db_, *mark, "");
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->notifications.size(), 1u);
  EXPECT_EQ(b->notifications[0]["reason"], "make check: 2 failures");
  EXPECT_EQ(b->notifications[0]["base"], "");
}

}  // namespace
}  // namespace pipeline::serve
