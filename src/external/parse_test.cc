#include "external/parse.h"

#include <gtest/gtest.h>

namespace pipeline {
namespace {

BudgetVerdict V(const std::string& text, int64_t r = 300) { return ParseBudgetAnswer(text, r).verdict; }

TEST(ParseBudgetAnswer, RecognisedObjects) {
  EXPECT_EQ(V(R"({"available":true,"remaining_cents":500})"), BudgetVerdict::kAllowed);
  EXPECT_EQ(V(R"({"allowed":false})"), BudgetVerdict::kDenied);
  EXPECT_EQ(V(R"({"remaining_cents":299})"), BudgetVerdict::kDenied);
  EXPECT_EQ(V(R"({"remaining_cents":"300"})"), BudgetVerdict::kAllowed);
  EXPECT_EQ(V(R"({"balance_cents":1000})"), BudgetVerdict::kAllowed);
}

TEST(ParseBudgetAnswer, EmptyObjectAndHelpTextAreNoAnswer) {
  // The seed treated these as "allowed" on exit 0 (docs/protocol.md, "A check never fails open").
  EXPECT_EQ(V("{}"), BudgetVerdict::kNoAnswer);
  EXPECT_EQ(V("usage: fund <command> [options]\n  check   ..."), BudgetVerdict::kNoAnswer);
  EXPECT_EQ(V(""), BudgetVerdict::kNoAnswer);
  EXPECT_EQ(V("null"), BudgetVerdict::kNoAnswer);
  EXPECT_EQ(V(R"({"available":null})"), BudgetVerdict::kNoAnswer);
}

TEST(ParseBudgetAnswer, BareScalarsAreRead) {
  EXPECT_EQ(V("true"), BudgetVerdict::kAllowed);
  EXPECT_EQ(V("false"), BudgetVerdict::kDenied);
  EXPECT_EQ(V("0"), BudgetVerdict::kDenied);
  EXPECT_EQ(V("500"), BudgetVerdict::kAllowed);
  EXPECT_EQ(V("150"), BudgetVerdict::kDenied);
  EXPECT_EQ(V(R"("no")"), BudgetVerdict::kDenied);
  EXPECT_EQ(V("yes\n"), BudgetVerdict::kAllowed);
  EXPECT_EQ(V("DENIED"), BudgetVerdict::kDenied);
}

TEST(ParseBudgetAnswer, NumericAvailableIsAnAmount) {
  EXPECT_EQ(V(R"({"available":150})"), BudgetVerdict::kDenied);
  EXPECT_EQ(V(R"({"available":300})"), BudgetVerdict::kAllowed);
}

TEST(ParseBudgetAnswer, BooleansDoNotOverrideALowAmount) {
  EXPECT_EQ(V(R"({"remaining_cents":0,"ok":true})"), BudgetVerdict::kDenied);
}

TEST(ParseBudgetAnswer, AnyFalseBooleanDenies) {
  EXPECT_EQ(V(R"({"available":"maybe","ok":false,"remaining_cents":1000})"), BudgetVerdict::kDenied);
  EXPECT_EQ(V(R"({"available":null,"ok":true})"), BudgetVerdict::kAllowed);
}

TEST(ParseBudgetAnswer, NestedKeysAreNotTrusted) {
  EXPECT_EQ(V(R"({"limits":{"remaining":999}})"), BudgetVerdict::kNoAnswer);
}

TEST(ParseBudgetAnswer, ReasonNamesTheField) {
  auto a = ParseBudgetAnswer(R"({"remaining_cents":120})", 300);
  EXPECT_NE(a.reason.find("remaining_cents"), std::string::npos) << a.reason;
}

TEST(ParseAgentStatus, RunningAndNonTerminalPhasesKeepTheRun) {
  for (const char* s : {"running", "queued", "starting", "in_progress", "pending", "In-Progress"}) {
    auto a = ParseAgentStatus(std::string(R"({"status":")") + s + "\"}", 0);
    EXPECT_EQ(a.state, AgentState::kRunning) << s;
  }
  EXPECT_EQ(ParseAgentStatus("running\n", 0).state, AgentState::kRunning);
}

TEST(ParseAgentStatus, TerminalWithCost) {
  auto a = ParseAgentStatus(R"({"status":"done","cost_cents":123.5,"error":null})", 0);
  EXPECT_EQ(a.state, AgentState::kEnded);
  EXPECT_EQ(a.status, "done");
  EXPECT_DOUBLE_EQ(a.cost_cents, 123.5);
  EXPECT_FALSE(a.error.has_value());
  auto f = ParseAgentStatus(R"({"status":"failed","cost_cents":"42","error":{"code":7}})", 1);
  EXPECT_EQ(f.state, AgentState::kEnded);
  EXPECT_EQ(f.status, "failed");
  EXPECT_DOUBLE_EQ(f.cost_cents, 42);
  ASSERT_TRUE(f.error.has_value());
  EXPECT_NE(f.error->find("7"), std::string::npos);
}

TEST(ParseAgentStatus, UndecodableOrUnknownKeepsTheRun) {
  // The seed finalised these as done/failed with cost 0 (docs/protocol.md,
  // "An unknown agent status keeps the run").
  EXPECT_EQ(ParseAgentStatus("", 0).state, AgentState::kUnknown);
  EXPECT_EQ(ParseAgentStatus("", 1).state, AgentState::kUnknown);
  EXPECT_EQ(ParseAgentStatus("{}", 0).state, AgentState::kUnknown);
  EXPECT_EQ(ParseAgentStatus(R"({"error":"no such run"})", 1).state, AgentState::kUnknown);
  EXPECT_EQ(ParseAgentStatus(R"({"status":"unknown"})", 0).state, AgentState::kUnknown);
  EXPECT_EQ(ParseAgentStatus(R"({"status":"done","cost_cents":"lots"})", 0).state, AgentState::kUnknown);
  EXPECT_EQ(ParseAgentStatus("segfault in agentd: core dumped", 139).state, AgentState::kUnknown);
}

TEST(ParseReadyTasks, OneBadElementDropsOnlyItself) {
  auto r = ParseReadyTasks(R"([{"taskId":"t-1","taskNamespace":"Omni/A.hs","taskStatus":"Open"},
                               {"taskId":null},
                               {"taskId":"t-3"},
                               7])");
  ASSERT_TRUE(r.ok()) << r.message();
  ASSERT_EQ(r->tasks.size(), 2u);
  EXPECT_EQ(r->tasks[0].id, "t-1");
  EXPECT_EQ(*r->tasks[0].ns, "Omni/A.hs");
  EXPECT_TRUE(ExternalTaskIsOpen(r->tasks[0]));
  EXPECT_FALSE(r->tasks[1].ns.has_value());
  EXPECT_EQ(r->skipped.size(), 2u);
}

TEST(ParseReadyTasks, WrapperAndNumericIds) {
  auto r = ParseReadyTasks(R"({"tasks":[{"taskId":12,"taskStatus":"in-progress"}]})");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->tasks.size(), 1u);
  EXPECT_EQ(r->tasks[0].id, "12");
  EXPECT_FALSE(ExternalTaskIsOpen(r->tasks[0]));
}

TEST(ParseReadyTasks, NotJsonIsAnError) {
  EXPECT_FALSE(ParseReadyTasks("Error: database locked").ok());
  EXPECT_FALSE(ParseReadyTasks(R"({"count":3})").ok());
}

}  // namespace
}  // namespace pipeline
