// `pipeline run --task-cmd/--fund-cmd/--agentd-cmd`: the seed protocol,
// driving our own pipeline-task / pipeline-fund / pipeline-agentd, and fund
// programs that answer oddly.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "sched_fixture.h"

namespace pipeline::testing {
namespace {

std::string Bin(const std::string& name) {
  std::string p = PipelineBin();
  return p.substr(0, p.find_last_of('/') + 1) + name;
}

std::string Config() {
  return "[fund]\ndefault_budget_cents = 0\n[scheduler]\nbackoff_base_s = 0\nexternal_timeout_s = 10\n"
         "[agent]\nprofile = \"t\"\n" + ProfileToml("t", {"true"});
}

std::vector<std::string> External(const std::string& fund) {
  return {"--task-cmd", Bin("pipeline-task"), "--fund-cmd", fund, "--agentd-cmd", Bin("pipeline-agentd"),
          "--interval", "0.1"};
}

TEST(SchedExternal, DrivesOurOwnToolsToReview) {
  SchedRepo repo(Config(), /*git=*/false);
  ASSERT_TRUE(RunPipeline({"fund", "grant", "--domain", "A", "--cents", "1000"}, repo.dir()).ok());
  ASSERT_TRUE(RunPipeline({"fund", "grant", "--domain", "B", "--cents", "1000"}, repo.dir()).ok());
  std::string a = repo.Task("in A", std::string("A"));
  std::string b = repo.Task("in B", std::string("B"));
  std::string none = repo.Task("nowhere", std::nullopt);
  auto args = External(Bin("pipeline-fund"));
  args.push_back("--until-idle");
  auto r = repo.Run(args, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo.Status(a), "review") << r.err;
  EXPECT_EQ(repo.Status(b), "review");
  EXPECT_EQ(repo.Status(none), "open");
  EXPECT_NE(r.err.find("no namespace"), std::string::npos);
  // Our bookkeeping: both runs finished, charged through the idempotent form.
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM external_runs WHERE state = 'finished' AND spend_form = 'spend'"), 2);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM ledger WHERE kind = 'spend'"), 2);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM comments WHERE text LIKE 'Pipeline scheduler: started run=pipeline-a-%'"), 1);
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM comments WHERE text LIKE 'Pipeline scheduler: run=pipeline-b-% domain=B "
                     "status=done cost=0c'"),
            1);
}

// A fund program whose `check` prints `answer` and exits `code`; every
// other form prints nothing and fails, except spend, which succeeds.
std::string FakeFund(const SchedRepo& repo, const std::string& name, const std::string& answer, int code) {
  std::string path = repo.dir() + "/" + name;
  WriteTextFile(path, "#!/bin/sh\ncase \"$1\" in\n  check) printf '%s\\n' '" + answer + "'; exit " +
                          std::to_string(code) + " ;;\n  spend) exit 0 ;;\n  *) exit 2 ;;\nesac\n");
  chmod(path.c_str(), 0755);
  return path;
}

TEST(SchedExternal, OddFundAnswersNeverFailOpen) {
  struct Case {
    std::string name, answer;
    int code;
    bool allowed;
  } cases[] = {
      {"empty-object", "{}", 0, false},
      {"bare-true", "true", 0, true},
      {"bare-false", "false", 0, false},
      {"available-150", "{\"available\":150}", 0, false},
      {"help-text", "usage: fund <command> [--json]", 0, false},
      {"exit-1", "", 1, false},
      {"low-amount-ok-true", "{\"remaining_cents\":0,\"ok\":true}", 0, false},
      {"enough", "{\"available\":true,\"remaining_cents\":900}", 0, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    SchedRepo repo(Config(), /*git=*/false);
    std::string fund = FakeFund(repo, "fund-" + c.name, c.answer, c.code);
    std::string id = repo.Task("work", std::string("A"));
    auto args = External(fund);
    args.push_back("--once");
    auto r = repo.Run(args, 60000);
    ASSERT_EQ(r.exit.exit_code, 0) << r.err;
    EXPECT_EQ(repo.Status(id) != "open", c.allowed) << r.err;
    if (!c.allowed) {
      EXPECT_NE(r.err.find("no budget in A"), std::string::npos) << r.err;
    }
    // Let an allowed run finish so nothing outlives the test.
    if (c.allowed) {
      args.back() = "--until-idle";
      auto done = repo.Run(args, 60000);
      EXPECT_EQ(done.exit.exit_code, 0) << done.err;
      EXPECT_EQ(repo.Status(id), "review");
    }
  }
}

TEST(SchedExternal, DryRunChangesNothingInOurStore) {
  SchedRepo repo(Config(), /*git=*/false);
  std::string id = repo.Task("work", std::string("A"));
  auto args = External(Bin("pipeline-fund"));
  args.push_back("--dry-run");
  auto r = repo.Run(args, 60000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("would-start task=" + id), std::string::npos) << r.out;
  EXPECT_EQ(repo.Status(id), "open");
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs"), 0);
}

}  // namespace
}  // namespace pipeline::testing
