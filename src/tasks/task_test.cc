#include "tasks/task.h"

#include <gtest/gtest.h>

namespace pipeline {
namespace {

TEST(TaskStatusTest, NamesRoundTripAndSpellingsNormalise) {
  for (auto s : {TaskStatus::kOpen, TaskStatus::kInProgress, TaskStatus::kNeedsHelp, TaskStatus::kReview,
                 TaskStatus::kVerified, TaskStatus::kDone})
    EXPECT_EQ(ParseTaskStatus(TaskStatusName(s)), s);
  EXPECT_EQ(ParseTaskStatus("InProgress"), TaskStatus::kInProgress);
  EXPECT_EQ(ParseTaskStatus("in_progress"), TaskStatus::kInProgress);
  EXPECT_EQ(ParseTaskStatus("IN-PROGRESS"), TaskStatus::kInProgress);
  EXPECT_EQ(ParseTaskStatus("Open "), TaskStatus::kOpen);
  EXPECT_EQ(ParseTaskStatus("opened"), std::nullopt);
  EXPECT_EQ(ParseTaskStatus(""), std::nullopt);
  EXPECT_STREQ(TaskStatusName(TaskStatus::kNeedsHelp), "needs-help");
}

TEST(TaskPriorityTest, AcceptsPAndDigits) {
  EXPECT_EQ(ParseTaskPriority("P0"), 0);
  EXPECT_EQ(ParseTaskPriority("p4"), 4);
  EXPECT_EQ(ParseTaskPriority("3"), 3);
  EXPECT_EQ(ParseTaskPriority("P5"), std::nullopt);
  EXPECT_EQ(ParseTaskPriority("-1"), std::nullopt);
  EXPECT_EQ(ParseTaskPriority("P"), std::nullopt);
  EXPECT_EQ(ParseTaskPriority("P22"), std::nullopt);
}

TEST(TaskTypeTest, WorkAndEpicOnly) {
  EXPECT_EQ(ParseTaskType("work"), "work");
  EXPECT_EQ(ParseTaskType("Epic"), "epic");
  EXPECT_EQ(ParseTaskType("WorkTask"), "work");
  EXPECT_EQ(ParseTaskType("bug"), std::nullopt);
}

TEST(TaskValidationTest, Ids) {
  EXPECT_TRUE(ValidateTaskId("t-1").ok());
  EXPECT_TRUE(ValidateTaskId("A.b_c-9").ok());
  EXPECT_TRUE(ValidateTaskId(std::string(64, 'a')).ok());
  for (std::string bad : {"", "-x", ".x", "a..b", "a/b", "../etc", "a b", "a\"b", "$(rm)", "a\nb", "t-1'"})
    EXPECT_FALSE(ValidateTaskId(bad).ok()) << bad;
  EXPECT_FALSE(ValidateTaskId(std::string(65, 'a')).ok());
}

TEST(TaskValidationTest, Authors) {
  EXPECT_TRUE(ValidateAuthor("human").ok());
  EXPECT_TRUE(ValidateAuthor("system").ok());
  EXPECT_TRUE(ValidateAuthor("agent:engineer").ok());
  EXPECT_TRUE(ValidateAuthor("agent:code_review-2").ok());
  for (std::string bad : {"", "agent:", "agent:Engineer", "agent:a b", "Human", "bot", "agent:x/y"})
    EXPECT_FALSE(ValidateAuthor(bad).ok()) << bad;
}

TEST(TaskValidationTest, LinesAndText) {
  EXPECT_TRUE(ValidateLine("title", "Fix Omni/Pipeline.hs \"quoted\" $(x)").ok());
  EXPECT_FALSE(ValidateLine("title", "two\nlines").ok());
  EXPECT_FALSE(ValidateLine("title", "   ").ok());
  EXPECT_FALSE(ValidateLine("title", "bad \xff byte").ok());
  EXPECT_TRUE(ValidateText("description", "many\nlines\n\ttabbed").ok());
  EXPECT_FALSE(ValidateText("description", std::string("nul\0byte", 8)).ok());
  EXPECT_FALSE(ValidateText("description", "\xc3").ok());
}

Task SampleTask() {
  Task t;
  t.id = "t-7";
  t.title = "Title \"q\" \xc3\xa9";
  t.type = "epic";
  t.parent = "t-1";
  t.ns = "Omni/Pipeline.hs";
  t.status = TaskStatus::kNeedsHelp;
  t.patchset = 3;
  t.priority = 1;
  t.complexity = 4;
  t.deps = {"t-2", "t-3"};
  t.description = "line1\nline2";
  t.comments = {{0, "hello", "agent:engineer", 1'790'000'000'123'456}};
  t.tags = {"a", "b"};
  t.created_at = 1'790'000'000'000'001;
  t.updated_at = 1'790'000'000'999'999;
  return t;
}

TEST(TaskJsonTest, HasEveryProtocolField) {
  auto j = TaskToJson(SampleTask());
  for (const char* k : {"taskId", "taskTitle", "taskType", "taskParent", "taskNamespace", "taskStatus",
                        "taskPatchsetCount", "taskPriority", "taskComplexity", "taskDependencies", "taskDescription",
                        "taskComments", "taskTags", "taskCreatedAt", "taskUpdatedAt"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j.size(), 15u);
  EXPECT_EQ(j["taskStatus"], "needs-help");
  EXPECT_EQ(j["taskPriority"], "P1");
  EXPECT_EQ(j["taskComments"][0]["commentAuthor"], "agent:engineer");
  EXPECT_EQ(j["taskComments"][0]["commentCreatedAt"], FormatIso8601(1'790'000'000'123'456));
  Task bare;
  bare.id = "t-1";
  bare.title = "x";
  auto b = TaskToJson(bare);
  EXPECT_TRUE(b["taskParent"].is_null());
  EXPECT_TRUE(b["taskNamespace"].is_null());
  EXPECT_TRUE(b["taskComplexity"].is_null());
}

TEST(TaskJsonTest, FromJsonInvertsToJson) {
  Task t = SampleTask();
  auto back = TaskFromJson(TaskToJson(t), 0);
  ASSERT_TRUE(back.ok()) << back.message();
  EXPECT_EQ(TaskToJson(*back), TaskToJson(t));
}

TEST(TaskJsonTest, FromJsonRefusesBadValues) {
  auto base = TaskToJson(SampleTask());
  auto with = [&](const char* key, nlohmann::json v) {
    auto j = base;
    j[key] = v;
    return TaskFromJson(j, 0);
  };
  EXPECT_FALSE(with("taskId", 7).ok());
  EXPECT_FALSE(with("taskId", "../x").ok());
  EXPECT_FALSE(with("taskStatus", "almost").ok());
  EXPECT_FALSE(with("taskPriority", "P9").ok());
  EXPECT_FALSE(with("taskType", "bug").ok());
  EXPECT_FALSE(with("taskComplexity", 6).ok());
  EXPECT_FALSE(with("taskDependencies", nlohmann::json::array({"t-7"})).ok());  // itself
  EXPECT_FALSE(with("taskCreatedAt", "yesterday").ok());
  EXPECT_FALSE(with("taskTitle", "").ok());
  EXPECT_FALSE(with("taskSurprise", 1).ok());
  auto j = base;
  j["taskComments"][0]["commentAuthor"] = "robot";
  EXPECT_FALSE(TaskFromJson(j, 0).ok());
  j = base;
  j.erase("taskTitle");
  EXPECT_FALSE(TaskFromJson(j, 0).ok());
}

}  // namespace
}  // namespace pipeline

namespace pipeline {
namespace {

std::string Text(const Task& t) {
  std::string s;
  AppendTaskJsonText(&s, t);
  return s;
}

TEST(TaskJsonTextTest, MatchesTheLibraryDumpByteForByte) {
  Task t = SampleTask();
  EXPECT_EQ(Text(t), TaskToJson(t).dump(-1, ' ', true));
  std::string every;
  for (int c = 1; c < 0x80; ++c) every.push_back(static_cast<char>(c));
  every += "\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80 \xef\xbf\xbf \xc2\x80";
  t.title = every;
  t.description = every + "\n" + every;
  t.ns.reset();
  t.parent.reset();
  t.complexity.reset();
  t.tags = {every, "/slash/"};
  t.deps.clear();
  t.comments.push_back({0, every, "system", 0});
  EXPECT_EQ(Text(t), TaskToJson(t).dump(-1, ' ', true));
  Task bare;
  bare.id = "x";
  EXPECT_EQ(Text(bare), TaskToJson(bare).dump(-1, ' ', true));
}

}  // namespace
}  // namespace pipeline
