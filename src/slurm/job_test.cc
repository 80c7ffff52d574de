#include "slurm/job.h"

#include <gtest/gtest.h>

namespace pipeline::slurm {
namespace {

// The lines below are what Slurm 22.05 printed on a one-node cluster.
constexpr const char* kScontrolCancelled =
    "JobId=2 JobName=a b UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=0 Nice=0 Account=(null) "
    "QOS=(null) JobState=CANCELLED Reason=JobHeldUser Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 "
    "Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A Partition=debug "
    "Command=(null) WorkDir=/tmp/with space StdErr=/tmp/slurm-2.out StdIn=/dev/null StdOut=/tmp/slurm-2.out Power=";

TEST(SlurmJobTest, ParsesScontrolLineWithSpacesInValues) {
  auto info = ParseScontrolJob(kScontrolCancelled);
  ASSERT_TRUE(info.ok()) << info.message();
  EXPECT_EQ(info->id, "2");
  EXPECT_EQ(info->name, "a b");
  EXPECT_EQ(info->state, JobState::kCancelled);
  EXPECT_EQ(info->reason, "JobHeldUser");
  EXPECT_EQ(info->exit_code, 0);
  EXPECT_EQ(info->std_out, "/tmp/slurm-2.out");
  EXPECT_FALSE(info->from_accounting);
}

TEST(SlurmJobTest, ScontrolExitCodeCarriesStatusAndSignal) {
  auto failed = ParseScontrolJob("JobId=7 JobName=x JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0");
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->exit_code, 3);
  EXPECT_EQ(failed->exit_signal, 0);
  auto killed = ParseScontrolJob("JobId=8 JobName=x JobState=FAILED Reason=JobLaunchFailure ExitCode=0:9");
  ASSERT_TRUE(killed.ok());
  EXPECT_EQ(killed->exit_signal, 9);
}

TEST(SlurmJobTest, ScontrolWithoutStateOrWithUnknownStateIsAnError) {
  EXPECT_FALSE(ParseScontrolJob("JobId=8 JobName=x").ok());
  EXPECT_FALSE(ParseScontrolJob("JobState=RUNNING").ok());
  EXPECT_FALSE(ParseScontrolJob("JobId=8 JobState=SLEEPING").ok());
  EXPECT_FALSE(ParseScontrolJob("JobId=8x JobState=RUNNING").ok());
  EXPECT_FALSE(ParseScontrolJob("JobId=8 JobState=RUNNING ExitCode=3").ok());
}

TEST(SlurmJobTest, SbatchParsableWithAndWithoutCluster) {
  EXPECT_EQ(*ParseSbatchParsable("12\n"), "12");
  EXPECT_EQ(*ParseSbatchParsable("325;cluster\n"), "325");
  EXPECT_FALSE(ParseSbatchParsable("").ok());
  EXPECT_FALSE(ParseSbatchParsable("sbatch: error: invalid partition specified\n").ok());
}

TEST(SlurmJobTest, SqueueAndSacctLines) {
  auto q = ParseSqueueLine("2|PENDING|JobHeldUser|a b\n");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->state, JobState::kPending);
  EXPECT_EQ(q->reason, "JobHeldUser");
  EXPECT_EQ(q->name, "a b");
  auto a = ParseSacctLine("325|wrap|FAILED|7:0|2026-11-24T00:31:54|2026-11-24T00:31:54|acct|/w");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->id, "325");
  EXPECT_EQ(a->state, JobState::kFailed);
  EXPECT_EQ(a->exit_code, 7);
  EXPECT_TRUE(a->from_accounting);
  auto by = ParseSacctLine("4|n|CANCELLED by 0|0:0");
  ASSERT_TRUE(by.ok());
  EXPECT_EQ(by->state, JobState::kCancelled);
  EXPECT_FALSE(ParseSacctLine("4|n|CANCELLED").ok());
  EXPECT_FALSE(ParseSqueueLine("x|RUNNING|None").ok());
}

TEST(SlurmJobTest, EveryStateRoundTripsAndFinalStatesHaveAnOutcome) {
  const JobState all[] = {JobState::kPending,   JobState::kConfiguring, JobState::kRunning,  JobState::kSuspended,
                          JobState::kCompleting, JobState::kRequeued,   JobState::kCompleted, JobState::kFailed,
                          JobState::kCancelled, JobState::kTimeout,     JobState::kOutOfMemory, JobState::kNodeFail,
                          JobState::kBootFail,  JobState::kDeadline,    JobState::kPreempted};
  for (JobState s : all) {
    auto back = ParseJobState(JobStateName(s));
    ASSERT_TRUE(back.ok()) << JobStateName(s);
    EXPECT_EQ(*back, s);
    EXPECT_EQ(IsFinal(s), OutcomeOf(s) != JobOutcome::kNotFinal) << JobStateName(s);
  }
}

TEST(SlurmJobTest, StatesMapOntoRunOutcomes) {
  EXPECT_EQ(OutcomeOf(JobState::kCompleting), JobOutcome::kNotFinal);  // still killing processes
  EXPECT_EQ(OutcomeOf(JobState::kTimeout), JobOutcome::kTimeout);
  EXPECT_EQ(OutcomeOf(JobState::kCancelled), JobOutcome::kKilled);
  EXPECT_EQ(OutcomeOf(JobState::kOutOfMemory), JobOutcome::kOutOfMemory);
  EXPECT_EQ(OutcomeOf(JobState::kNodeFail), JobOutcome::kInfrastructure);
  EXPECT_EQ(OutcomeOf(JobState::kPreempted), JobOutcome::kInfrastructure);
  EXPECT_EQ(OutcomeOf(JobState::kFailed), JobOutcome::kFailed);
}

TEST(SlurmJobTest, NodeFailureAndPreemptionReadFromEveryCommandAreClusterLosses) {
  // As the controller prints them while it remembers the job...
  auto sc = ParseScontrolJob("JobId=41 JobName=pl-pipeline-1 JobState=NODE_FAIL Reason=NodeDown ExitCode=0:0");
  ASSERT_TRUE(sc.ok()) << sc.message();
  EXPECT_EQ(sc->state, JobState::kNodeFail);
  EXPECT_EQ(sc->reason, "NodeDown");
  auto sq = ParseSqueueLine("42|PREEMPTED|None|pl-pipeline-2");
  ASSERT_TRUE(sq.ok()) << sq.message();
  EXPECT_EQ(sq->state, JobState::kPreempted);
  // ...and from the job-completion record once it was purged.
  auto ac = ParseSacctLine("43|pl-pipeline-3|NODE_FAIL|0:0|2026-11-24T00:31:54|2026-11-24T00:32:10|acct|/w");
  ASSERT_TRUE(ac.ok()) << ac.message();
  EXPECT_EQ(ac->state, JobState::kNodeFail);
  auto boot = ParseSacctLine("44|pl-pipeline-4|BOOT_FAIL|0:0");
  ASSERT_TRUE(boot.ok()) << boot.message();
  for (JobState s : {sc->state, sq->state, ac->state, boot->state})
    EXPECT_EQ(OutcomeOf(s), JobOutcome::kInfrastructure) << JobStateName(s);
  // A job that merely failed is the run's failure, counted as usual.
  auto failed = ParseSqueueLine("45|FAILED|NonZeroExitCode|pl-pipeline-5");
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(OutcomeOf(failed->state), JobOutcome::kFailed);
}

}  // namespace
}  // namespace pipeline::slurm
