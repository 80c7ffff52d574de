#include "sandbox/sandbox_exec.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace pipeline {
namespace {

// Runs the inner step in a child told to wait on a socket, sends `go` (or
// just closes it) and returns the child's exit code.
int RunGated(const char* go) {
  int gate[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, gate) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(gate[1]);
    _exit(SandboxExecMain({"--no-fs", "--wait-fd", std::to_string(gate[0]), "--", "true"}));
  }
  close(gate[0]);
  if (go) (void)!write(gate[1], go, 1);
  close(gate[1]);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The agent starts only on the monitor's go: not on anything else, not when
// the monitor closes without one (it failed or died mid-preparation).
TEST(SandboxExecTest, TheAgentStartsOnlyOnTheMonitorsGo) {
  EXPECT_EQ(RunGated("g"), 0);
  EXPECT_EQ(RunGated("x"), 127);
  EXPECT_EQ(RunGated(nullptr), 127);
}

}  // namespace
}  // namespace pipeline
