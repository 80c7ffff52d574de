// [verify] as both checks see it: the scheduler's verify phase (a verify run
// in the task's worktree) and the merge-queue check (`integrate-task`, on the
// merge commit) get the same command, the same {namespace}/{domain}
// substitutions and the same per-domain timeout. Built binary, real git,
// scripted agent.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "sched_fixture.h"
#include "util/text.h"

namespace pipeline::testing {
namespace {

// A dev agent that commits; tasks under Omni/ are domain "omni", so the
// namespace and the domain differ and each placeholder is told apart.
// [verify] itself names a command that always fails, with the default
// timeout: a phase that ignored the domain's table could not pass.
std::string Config(const std::string& agent, const std::string& domain_table) {
  return "[fund]\ndefault_budget_cents = 100000\n"
         "[scheduler]\nbackoff_base_s = 0\nreserve_cents = 10\nintegrate_retry_s = 1\nmax_patchsets = 1\n"
         "[[domain_rules]]\nmatch = \"Omni/*\"\ndomain = \"omni\"\n"
         "[verify]\ncommand = [\"sh\", \"-c\", \"echo wrong table; exit 1\"]\ntimeout_s = 600\n"
         "[verify.domains.omni]\n" +
         domain_table + "[agent]\nprofile = \"t\"\n" + ProfileToml("t", {agent}) +
         // The check logs where the test can read it, outside the workspace:
         // not confined (confinement has its own tests, tests/sandbox_test.cc).
         "[sandbox]\nenabled = false\n";
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(VerifyPhases, BothPhasesRunTheDomainCommandWithItsSubstitutions) {
  TempDir logs;
  const std::string log = logs / "checks.log";
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(),
                Config(repo.agent("sched_commit.sh"),
                       "command = [\"sh\", \"-c\", \"echo ns={namespace} domain={domain} "
                       "env=$PIPELINE_NAMESPACE/$PIPELINE_DOMAIN commit=${PIPELINE_COMMIT:-none} >> '" +
                           log + "'\"]\ntimeout_s = 77\n"));
  std::string id = repo.Task("make a change", std::string("Omni/A.hs"));
  auto r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo.Status(id), "done") << r.err;

  // First the verify phase (no merge commit yet), then the merge check.
  std::vector<std::string> lines = Lines(ReadTextFile(log));
  ASSERT_EQ(lines.size(), 2u) << ReadTextFile(log);
  EXPECT_EQ(lines[0], "ns=Omni/A.hs domain=omni env=Omni/A.hs/omni commit=none");
  EXPECT_TRUE(std::regex_match(lines[1], std::regex("ns=Omni/A\\.hs domain=omni env=Omni/A\\.hs/omni commit=[0-9a-f]{40}")))
      << lines[1];
  // The verify run was recorded with the domain's timeout, not [verify]'s.
  EXPECT_EQ(repo.Int("SELECT timeout_s FROM runs WHERE phase = 'verify' AND task_id = '" + id + "'"), 77);
}

TEST(VerifyPhases, BothPhasesStopTheCommandAtTheDomainTimeout) {
  SchedRepo repo("");
  // `exec` so the timed-out process is the sleeping one itself.
  WriteTextFile(repo.paths().config(),
                Config(repo.agent("sched_commit.sh"),
                       "command = [\"sh\", \"-c\", \"echo checking {namespace}; exec sleep 120\"]\ntimeout_s = 1\n"));
  std::string id = repo.Task("a change whose check hangs", std::string("Omni/A.hs"));
  auto r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;

  // Verify phase: the run timed out after the domain's 1 s; with
  // max_patchsets = 1 the rejected patchset sends the task to needs-help.
  EXPECT_EQ(repo.Text("SELECT status FROM runs WHERE phase = 'verify' AND task_id = '" + id + "'"), "timeout");
  EXPECT_EQ(repo.Int("SELECT timeout_s FROM runs WHERE phase = 'verify' AND task_id = '" + id + "'"), 1);
  EXPECT_EQ(repo.Status(id), "needs-help");
  std::string feedback = repo.Text("SELECT feedback FROM tasks WHERE id = '" + id + "'");
  EXPECT_NE(feedback.find("checking Omni/A.hs"), std::string::npos) << feedback;

  // Merge check of the same branch, same config: the same command, stopped
  // at the same 1 s.
  auto check = RunPipeline({"integrate-task", id}, repo.dir(), {}, 60000);
  EXPECT_EQ(check.exit.exit_code, 1) << check.out << check.err;
  std::vector<std::string> out = Lines(Trim(check.out));
  ASSERT_FALSE(out.empty()) << check.err;
  auto j = nlohmann::json::parse(out.back(), nullptr, false);
  ASSERT_TRUE(j.is_object()) << check.out;
  EXPECT_EQ(j["outcome"], "check-failed");
  EXPECT_EQ(j["timed_out"], true);
  std::string tail = j.value("output_tail", "");
  EXPECT_NE(tail.find("checking Omni/A.hs"), std::string::npos) << tail;
  EXPECT_NE(tail.find("[verify command timed out after 1 s]"), std::string::npos) << tail;
}

}  // namespace
}  // namespace pipeline::testing
