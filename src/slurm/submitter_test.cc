#include "slurm/submitter.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <set>

#include "slurm/slurm_testing.h"

namespace pipeline::slurm {
namespace {

SubmitRequest Request(const std::string& name) {
  SubmitRequest r;
  r.job_name = name;
  r.script = "/shared/pipeline-job.sh";
  r.args = {"/usr/bin/pipeline", "agent", "__job", "/shared/runs/" + name};
  return r;
}

TEST(SubmitterTest, SubmitReturnsBeforeSbatchAnswersAndTheAnswerWakesTheDescriptor) {
  GatedRunner runner;
  Client client(runner, {});
  Submitter s(client);
  s.Submit("r-1", Request("pl-r-1"));
  EXPECT_TRUE(s.Pending("r-1"));
  EXPECT_FALSE(s.Pending("r-2"));
  EXPECT_TRUE(s.Take().empty()) << "no answer yet";
  EXPECT_TRUE(s.Pending("r-1"));
  runner.Open();
  ASSERT_TRUE(s.WaitForAnswer(10'000'000));
  struct pollfd p = {s.fd(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 1) << "the wait loop wakes on it";
  auto answers = s.Take();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].run_id, "r-1");
  ASSERT_TRUE(answers[0].job_id.ok()) << answers[0].job_id.message();
  EXPECT_EQ(*answers[0].job_id, "100");
  EXPECT_FALSE(s.Pending("r-1"));
  EXPECT_FALSE(s.AnyPending());
  EXPECT_EQ(poll(&p, 1, 0), 0) << "taken: no longer readable";
  ASSERT_EQ(runner.Calls(), 1u);
  EXPECT_EQ(runner.calls[0].argv[0], "sbatch");
}

TEST(SubmitterTest, SeveralSubmissionsRunAtOnceAndEachAnswerIsTakenOnce) {
  GatedRunner runner;
  Client client(runner, {});
  Submitter s(client);
  for (int i = 0; i < 4; ++i) s.Submit("r-" + std::to_string(i), Request("pl-r-" + std::to_string(i)));
  // All four are waiting inside sbatch together: none queued behind another.
  while (runner.Calls() < 4) s.WaitForAnswer(1000);
  runner.Open();
  std::set<std::string> ids, runs;
  while (runs.size() < 4) {
    ASSERT_TRUE(s.WaitForAnswer(10'000'000));
    for (auto& a : s.Take()) {
      ASSERT_TRUE(a.job_id.ok());
      EXPECT_TRUE(runs.insert(a.run_id).second) << a.run_id << " answered twice";
      ids.insert(*a.job_id);
    }
  }
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_FALSE(s.AnyPending());
}

TEST(SubmitterTest, AFailedSbatchComesBackAsItsError) {
  GatedRunner runner;
  Client client(runner, {});
  Submitter s(client);
  s.Submit("r-1", Request("pl-r-1"));
  runner.Open(1);
  ASSERT_TRUE(s.WaitForAnswer(10'000'000));
  auto answers = s.Take();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_FALSE(answers[0].job_id.ok());
  EXPECT_NE(answers[0].job_id.message().find("invalid partition"), std::string::npos) << answers[0].job_id.message();
}

TEST(SubmitterTest, DestroyingItWaitsForTheSubmissionsInFlight) {
  GatedRunner runner;
  Client client(runner, {});
  {
    Submitter s(client);
    s.Submit("r-1", Request("pl-r-1"));
    while (runner.Calls() < 1) s.WaitForAnswer(1000);
    runner.Open();
  }  // joins: the thread never outlives the client it uses
  EXPECT_EQ(runner.Calls(), 1u);
}

}  // namespace
}  // namespace pipeline::slurm
