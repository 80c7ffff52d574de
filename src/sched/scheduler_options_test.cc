#include "sched/scheduler_options.h"

#include <gtest/gtest.h>

#include <set>

#include "sched/prompt.h"
#include "sched/run_id.h"

namespace pipeline {
namespace {

SchedulerOptions FromToml(const std::string& text) {
  auto c = Config::Parse(text, "config.toml");
  EXPECT_TRUE(c.ok()) << c.message();
  auto o = OptionsFromConfig(*c);
  EXPECT_TRUE(o.ok()) << o.message();
  return o.ok() ? *o : SchedulerOptions{};
}

TEST(OptionsFromConfig, DefaultsWithoutAFile) {
  SchedulerOptions o = FromToml("");
  EXPECT_EQ(o.max_active, 8);
  EXPECT_EQ(o.reserve_cents, 300);
  EXPECT_EQ(o.MaxCostCents(), 300);
  EXPECT_EQ(o.max_retries, 3);
  EXPECT_EQ(o.backoff_base_s, 30);
  EXPECT_EQ(o.after_run, AfterRun::kVerify);
  EXPECT_EQ(o.MaxActiveFor("anything"), 1);
  EXPECT_FALSE(o.verify.fallback.command.has_value());
  EXPECT_EQ(o.toolchain, "");
  EXPECT_EQ(o.MaxTaskCostCents(), SchedulerOptions::kTaskCostHolds * 300);
  EXPECT_TRUE(ValidateOptions(o).ok());
}

TEST(OptionsFromConfig, ReadsEverySection) {
  SchedulerOptions o = FromToml(R"(
[scheduler]
max_active = 3
reserve_cents = 50
backoff_base_s = 0
after_run = "review"
[domains."src/api"]
max_active = 2
[[domain_rules]]
match = "src/api/*"
domain = "api"
[[domain_rules]]
match = "src/*"
domain = "src"
[verify]
command = ["make", "test"]
timeout_s = 60
[verify.domains."api"]
command = ["ninja", "check"]
[review]
required = true
)");
  EXPECT_EQ(o.max_active, 3);
  EXPECT_EQ(o.MaxCostCents(), 50);
  EXPECT_EQ(o.backoff_base_s, 0);
  EXPECT_EQ(o.after_run, AfterRun::kReview);
  EXPECT_EQ(o.MaxActiveFor("src/api"), 2);
  EXPECT_EQ(DomainFor(o, "src/api/routes.c"), "api");
  EXPECT_EQ(DomainFor(o, "src/util.c"), "src");
  EXPECT_EQ(DomainFor(o, "  docs "), "docs");
  EXPECT_EQ(o.verify.For("api", "src/api/routes.c")->argv, (std::vector<std::string>{"ninja", "check"}));
  EXPECT_EQ(o.verify.For("src", "src/util.c")->argv, (std::vector<std::string>{"make", "test"}));
  EXPECT_TRUE(o.verify.fallback.command.has_value());
  EXPECT_EQ(o.verify.For("src", "src/util.c")->timeout_s, 60);
  EXPECT_TRUE(o.review_required);
}

TEST(OptionsFromConfig, VerificationSwitchedOffIsToldApartFromUnset) {
  SchedulerOptions o = FromToml("[verify]\ncommand = []\n");
  ASSERT_TRUE(o.verify.fallback.command.has_value());  // decided: switched off
  EXPECT_TRUE(o.verify.fallback.command->empty());
  EXPECT_FALSE(o.verify.For("src", "src/util.c").has_value());
}

TEST(OptionsFromConfig, WrongTypesAreErrors) {
  for (const char* bad : {"[scheduler]\nmax_active = \"8\"\n", "[scheduler]\nafter_run = \"ship\"\n",
                          "[[domain_rules]]\nmatch = \"x\"\n", "[verify]\ncommand = \"make test\"\n"}) {
    // A wrong type is refused with the file; a wrong value when it is read.
    auto c = Config::Parse(bad, "config.toml");
    EXPECT_FALSE(c.ok() && OptionsFromConfig(*c).ok()) << bad;
  }
}

TEST(OptionsFromConfig, TheMergeQueueKeysAreReadAndChecked) {
  SchedulerOptions d = FromToml("");
  EXPECT_EQ(d.batch_max, 8);
  EXPECT_EQ(d.integrate_parallel, 4);
  EXPECT_TRUE(d.branch_check);
  EXPECT_EQ(d.base_recheck_s, 300);
  SchedulerOptions o =
      FromToml("[integrate]\nbatch_max = 1\nparallel = 4\nbranch_check = \"never\"\nbase_recheck_s = 60\n");
  EXPECT_EQ(o.batch_max, 1);
  EXPECT_EQ(o.integrate_parallel, 4);
  EXPECT_FALSE(o.branch_check);
  EXPECT_EQ(o.base_recheck_s, 60);
  for (const char* bad : {"[integrate]\nbatch_max = 0\n", "[integrate]\nbatch_max = 65\n", "[integrate]\nparallel = 0\n",
                          "[integrate]\nbranch_check = \"sometimes\"\n", "[integrate]\nbase_recheck_s = 0\n"}) {
    auto c = Config::Parse(bad, "config.toml");
    ASSERT_TRUE(c.ok()) << bad;
    auto r = OptionsFromConfig(*c);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.message().find("integrate."), std::string::npos) << r.message();
    EXPECT_EQ(r.message().find('\n'), std::string::npos) << r.message();
  }
}

TEST(ValidateOptions, RejectsPartialExternalAndBadLimits) {
  SchedulerOptions o;
  o.task_cmd = "task";
  EXPECT_EQ(ValidateOptions(o).kind(), ErrorKind::kInvalidArgument);
  o.fund_cmd = "fund";
  o.agentd_cmd = "agentd";
  EXPECT_TRUE(ValidateOptions(o).ok());
  o.max_active = 0;
  EXPECT_FALSE(ValidateOptions(o).ok());
}

TEST(Backoff, DoublesAndCaps) {
  EXPECT_EQ(BackoffMicros(30, 0), 30'000'000);
  EXPECT_EQ(BackoffMicros(30, 1), 60'000'000);
  EXPECT_EQ(BackoffMicros(30, 3), 240'000'000);
  EXPECT_EQ(BackoffMicros(30, 10), 600'000'000);
  EXPECT_EQ(BackoffMicros(30, 1000), 600'000'000);
  EXPECT_EQ(BackoffMicros(0, 5), 0);
}

TEST(RunId, SeedFormAndUnique) {
  EXPECT_EQ(BaseRunId("Omni/A.hs", "t-1", 1795480637), "pipeline-omni-a-hs-t-1-1795480637");
  std::set<std::string> taken = {"pipeline-omni-a-hs-t-1-5", "pipeline-omni-a-hs-t-1-5-2"};
  auto id = UniqueRunId("omni-a-hs", "t-1", 5, [&](const std::string& s) { return taken.count(s) > 0; });
  EXPECT_EQ(id, "pipeline-omni-a-hs-t-1-5-3");
}

TEST(Prompt, FrontmatterThenTaskCommentsFeedbackAndWorkflow) {
  PromptInput in;
  in.toolchain = "cpp";
  in.workspace = "/repo/.pipeline/worktrees/t-7";
  in.run_id = "pipeline-a-t-7-1";
  in.task_id = "t-7";
  in.model = "m1";
  in.title = "Add a flag";
  in.description = "Add --frob.";
  in.domain = "a";
  in.ns = "src/a";
  in.comments = {{"agent:engineer", "Which format?"}, {"human", "JSON"}};
  in.feedback = "Build failed: missing import";
  std::string p = RenderDevPrompt(in);
  EXPECT_EQ(p.rfind("---\ntoolchain: cpp\nworkspace: /repo/.pipeline/worktrees/t-7\nrun_id: pipeline-a-t-7-1\n", 0),
            0u)
      << p;
  EXPECT_NE(p.find("model: m1\n"), std::string::npos);
  EXPECT_NE(p.find("### Comments\n- [agent:engineer] Which format?\n- [human] JSON\n"), std::string::npos);
  EXPECT_NE(p.find("The previous patchset was rejected"), std::string::npos);
  EXPECT_NE(p.find("missing import"), std::string::npos);
  EXPECT_NE(p.find("Do NOT change task status"), std::string::npos);
  EXPECT_NE(p.find("ambiguous or missing critical details"), std::string::npos);
  EXPECT_NE(p.find("pipeline task comment t-7"), std::string::npos);
  EXPECT_NE(p.find("exit 0 without committing"), std::string::npos);
  in.comments.clear();
  in.feedback.reset();
  p = RenderDevPrompt(in);
  EXPECT_EQ(p.find("### Comments"), std::string::npos);
  EXPECT_EQ(p.find("previous patchset"), std::string::npos);
}

TEST(Prompt, FrontmatterValuesAreOneLine) {
  EXPECT_TRUE(CheckFrontmatterValue("model", "claude-x").ok());
  EXPECT_FALSE(CheckFrontmatterValue("model", "x\nworkspace: /").ok());
}

}  // namespace
}  // namespace pipeline
