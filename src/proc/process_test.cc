#include "proc/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

namespace pipeline {
namespace {

CommandResult MustRun(const Command& c) {
  auto r = RealProcessRunner().Run(c);
  EXPECT_TRUE(r.ok()) << r.message();
  return r.ok() ? *r : CommandResult{};
}

TEST(ProcessTest, RunCapturesBothStreamsAndExitCode) {
  Command c;
  c.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"};
  auto r = MustRun(c);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_EQ(r.exit.exit_code, 3);
  EXPECT_FALSE(r.ok());
}

TEST(ProcessTest, ArgumentsAreNeverInterpretedByAShell) {
  Command c;
  c.argv = {"printf", "%s|", "$(echo pwned)", "a b", "; rm -rf /"};
  auto r = MustRun(c);
  EXPECT_EQ(r.out, "$(echo pwned)|a b|; rm -rf /|");
}

TEST(ProcessTest, MissingProgramIsNotFound) {
  Command c;
  c.argv = {"/nonexistent/program"};
  auto r = RealProcessRunner().Run(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.kind(), ErrorKind::kNotFound);
}

TEST(ProcessTest, EnvironmentAndCwdAreApplied) {
  Command c;
  c.argv = {"sh", "-c", "pwd; echo $PIPELINE_X"};
  c.cwd = "/tmp";
  c.env_set = {{"PIPELINE_X", "hello"}};
  auto r = MustRun(c);
  EXPECT_EQ(r.out, "/tmp\nhello\n");
}

TEST(ProcessTest, StdinIsFedAndOtherwiseEmpty) {
  Command c;
  c.argv = {"cat"};
  c.stdin_data = "fed\n";
  EXPECT_EQ(MustRun(c).out, "fed\n");
  Command d;
  d.argv = {"cat"};  // /dev/null: returns at once
  EXPECT_EQ(MustRun(d).out, "");
}

TEST(ProcessTest, TimeoutKillsTheWholeGroup) {
  Command c;
  // The grandchild writes its pid then sleeps; both must die.
  c.argv = {"sh", "-c", "sleep 30 & echo $!; wait"};
  c.timeout_ms = 300;
  auto r = MustRun(c);
  EXPECT_TRUE(r.timed_out);
  pid_t grandchild = std::stoi(r.out);
  // Give the kernel a moment to deliver SIGKILL to the group.
  for (int i = 0; i < 100 && ProcessAlive(grandchild, 0); ++i) usleep(10000);
  EXPECT_FALSE(ProcessAlive(grandchild, 0));
}

TEST(ProcessTest, OutputIsCapped) {
  Command c;
  c.argv = {"head", "-c", "1000000", "/dev/zero"};
  c.max_output_bytes = 1000;
  auto r = MustRun(c);
  EXPECT_EQ(r.out.size(), 1000u);
  EXPECT_TRUE(r.ok());
}

TEST(ProcessTest, IdentityUsesStartTime) {
  auto st = ProcessStartTime(getpid());
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(ProcessAlive(getpid(), *st));
  EXPECT_FALSE(ProcessAlive(getpid(), *st + 1));  // a recycled pid would differ
  EXPECT_FALSE(ProcessAlive(999999999, 0));
}

TEST(ProcessTest, PidfdBecomesReadableOnExit) {
  SpawnOptions o;
  o.argv = {"sleep", "0.1"};
  auto p = Spawn(o);
  ASSERT_TRUE(p.ok());
  int fd = PidfdOpen(p->pid);
  ASSERT_GE(fd, 0);
  fd_set set;
  FD_ZERO(&set);
  FD_SET(fd, &set);
  struct timeval tv {5, 0};
  EXPECT_EQ(select(fd + 1, &set, nullptr, nullptr, &tv), 1);
  close(fd);
  int status;
  waitpid(p->pid, &status, 0);
  EXPECT_TRUE(DecodeWaitStatus(status).success());
}

TEST(ProcessTest, SpawnInNewGroupAndSignalIt) {
  SpawnOptions o;
  o.argv = {"sleep", "30"};
  auto p = Spawn(o);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(getpgid(p->pid), p->pid);
  EXPECT_TRUE(GroupAlive(p->pid));
  SignalGroup(p->pid, SIGKILL);
  int status;
  waitpid(p->pid, &status, 0);
  EXPECT_EQ(DecodeWaitStatus(status).term_signal, SIGKILL);
}

}  // namespace
}  // namespace pipeline
