#include "sched/status_screen.h"

#include <gtest/gtest.h>

#include "util/text.h"

namespace pipeline {
namespace {

using nlohmann::json;

// A snapshot of a busy pipeline: 3 runs, 2 questions, 6 waiting tasks,
// 20 failures whose detail is a 267-character compiler line, 10 events.
json BusySnapshot() {
  std::string compiler(267, 'x');
  compiler.replace(0, 40, "src/parse.c:12:5: error: expected ';' é\t");
  json j;
  j["root"] = "/home/someone/project/.pipeline";
  j["at"] = "2026-12-01T16:42:01.000000Z";
  j["scheduler"] = {{"running", true}, {"pid", 4242}};
  j["counts"] = {{"open", 9}, {"in-progress", 3}, {"needs-help", 2}, {"review", 0}, {"verified", 1}, {"done", 4}};
  j["ready"] = 4;
  j["budgets"] = json::array({{{"domain", "src"}, {"budget_cents", 500}, {"remaining_cents", 120}, {"overrun_blocked", false}}});
  j["active_runs"] = json::array();
  for (int i = 1; i <= 3; ++i)
    j["active_runs"].push_back({{"arTaskId", "t-" + std::to_string(i)},
                                {"arRunId", "pipeline-src-t-" + std::to_string(i) + "-1790000000"},
                                {"arDomain", "src"},
                                {"phase", "dev"},
                                {"age_s", 12.0 * i},
                                {"cost_cents", 3.0},
                                {"title", "a task title that is rather long, as titles written by people tend to be"}});
  j["waiting"] = json::array();
  j["waiting"].push_back({{"task_id", "t-10"}, {"kind", "needs-person"}, {"reason", "needs a person: asks \"Which database should I use?\""}});
  j["waiting"].push_back({{"task_id", "t-11"}, {"kind", "needs-person"}, {"reason", "needs a person: 3 failed attempts"}});
  for (int i = 20; i < 26; ++i)
    j["waiting"].push_back({{"task_id", "t-" + std::to_string(i)}, {"kind", "dependency"},
                            {"reason", "waiting on dependency t-1 (in-progress)"}});
  j["recent_failures"] = json::array();
  for (int i = 0; i < 20; ++i)
    j["recent_failures"].push_back({{"at", "2026-12-01T16:40:00.000000Z"}, {"task_id", "t-5"}, {"kind", "failure"},
                                    {"detail", compiler}});
  j["events"] = json::array();
  for (int i = 0; i < 10; ++i)
    j["events"].push_back({{"at", "2026-12-01T16:41:00.000000Z"}, {"task_id", "t-5"}, {"kind", "failure"}, {"detail", compiler}});
  return j;
}

void ExpectFits(const std::vector<std::string>& lines, int width, int height) {
  EXPECT_LE(static_cast<int>(lines.size()), height);
  for (const auto& l : lines) {
    EXPECT_LE(DisplayWidth(l), width) << l;
    EXPECT_TRUE(IsValidUtf8(l)) << l;
    EXPECT_EQ(l.find('\t'), std::string::npos) << l;
  }
}

int IndexOf(const std::vector<std::string>& lines, const std::string& needle) {
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].find(needle) != std::string::npos) return static_cast<int>(i);
  return -1;
}

TEST(StatusScreen, At80x24TheHeaderRunsAndQuestionsComeBeforeTheFailures) {
  auto lines = RenderStatusScreen(BusySnapshot(), 80, 24);
  ExpectFits(lines, 80, 24);
  EXPECT_EQ(lines.size(), 24u);
  EXPECT_NE(lines[0].find("scheduler: running (pid 4242)"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("9 open (4 ready)"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("src 120/500c"), std::string::npos) << lines[2];
  int running = IndexOf(lines, "Running (3)");
  ASSERT_GE(running, 0);
  for (const char* t : {"  t-1 ", "  t-2 ", "  t-3 "}) EXPECT_GE(IndexOf(lines, t), 0) << t;
  int question = IndexOf(lines, "Which database should I use?");
  ASSERT_GE(question, 0);
  int failure = IndexOf(lines, "expected ';'");
  ASSERT_GE(failure, 0);
  EXPECT_LT(question, failure);
  EXPECT_GE(IndexOf(lines, "Waiting (6)"), 0);
  EXPECT_GE(IndexOf(lines, "… and "), 0);  // trimmed sections say so
}

TEST(StatusScreen, At160x50EverySectionShowsAndLongLinesAreCut) {
  auto lines = RenderStatusScreen(BusySnapshot(), 160, 50);
  ExpectFits(lines, 160, 50);
  EXPECT_GE(IndexOf(lines, "Recent events"), 0);
  EXPECT_GE(IndexOf(lines, "t-25  waiting on dependency t-1 (in-progress)"), 0);
  int cut = IndexOf(lines, "expected ';'");
  ASSERT_GE(cut, 0);
  EXPECT_EQ(DisplayWidth(lines[static_cast<size_t>(cut)]), 160);
  EXPECT_NE(lines[static_cast<size_t>(cut)].find("…"), std::string::npos);
}

TEST(StatusScreen, AProtectionSwitchedOffIsOneHeaderLineAndTheScreenStillFits) {
  json j = BusySnapshot();
  j["sandbox"] = {{"enabled", true}, {"off", json::array()}, {"line", ""}};
  auto all_on = RenderStatusScreen(j, 80, 24);
  EXPECT_EQ(IndexOf(all_on, "sandbox"), -1) << "nothing said while every protection is on";
  j["sandbox"] = {{"enabled", true}, {"off", json::array({"network"})}, {"line", "sandbox off: network (sandbox.off)"}};
  auto lines = RenderStatusScreen(j, 80, 24);
  ExpectFits(lines, 80, 24);
  EXPECT_EQ(lines.size(), 24u);
  ASSERT_GE(lines.size(), 4u);
  EXPECT_EQ(lines[3], "sandbox off: network (sandbox.off)");
  EXPECT_GE(IndexOf(lines, "Running (3)"), 0);
  EXPECT_GE(IndexOf(lines, "Which database should I use?"), 0);
}

TEST(StatusScreen, TinyScreensAndAStoppedScheduler) {
  json j = BusySnapshot();
  j["scheduler"] = {{"running", false}};
  auto lines = RenderStatusScreen(j, 30, 4);
  ExpectFits(lines, 30, 4);
  EXPECT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[0].find("not running"), std::string::npos) << lines[0];
  EXPECT_TRUE(RenderStatusScreen(j, 0, 10).empty());
  EXPECT_TRUE(RenderStatusScreen(j, 80, 0).empty());
}

TEST(StatusScreen, TheMergeQueueInOrderWithOneLineForARedBase) {
  json j = BusySnapshot();
  for (int i = 1; i <= 4; ++i) {
    json w = {{"task_id", "t-3" + std::to_string(i)},
              {"kind", i <= 2 ? "running" : "integration-waiting"},
              {"reason", i <= 2 ? "integrating: checked in a batch of 2 (run r-1) (waited 3m)"
                                : "base red: main fails its check (since 2m ago) (waited 5m)"},
              {"detail", {{"queue_position", i}, {"base_red", i > 2}}}};
    j["waiting"].push_back(w);
  }
  auto lines = RenderStatusScreen(j, 80, 24);
  ExpectFits(lines, 80, 24);
  int queue = IndexOf(lines, "Merge queue (4): 2 being checked; base red, nothing lands");
  ASSERT_GE(queue, 0);
  EXPECT_GE(IndexOf(lines, " 1 t-31  integrating: checked in a batch of 2"), queue);
  auto tall = RenderStatusScreen(j, 100, 60);
  ExpectFits(tall, 100, 60);
  // The red base is said once among what needs a person, not once per change.
  int said = 0;
  for (const auto& l : tall) said += l.find("base red: main fails") != std::string::npos && l.find("t-3") == std::string::npos;
  EXPECT_EQ(said, 1);
  EXPECT_LT(IndexOf(tall, " 1 t-31"), IndexOf(tall, " 4 t-34"));
}

TEST(StatusScreen, FitToWidthCutsOnCharactersAndBlanksControls) {
  EXPECT_EQ(FitToWidth("héllo wörld", 5), "héll…");
  EXPECT_EQ(FitToWidth("héllo", 5), "héllo");
  EXPECT_EQ(FitToWidth("a\x1b[2Jb\nc", 80), "a [2Jb c");
  EXPECT_EQ(FitToWidth(std::string("ok\xff"), 80), "ok?");
  EXPECT_EQ(DisplayWidth("…é"), 2);
}

}  // namespace
}  // namespace pipeline
