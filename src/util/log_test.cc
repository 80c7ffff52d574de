#include "util/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace pipeline {
namespace {

// Runs fn with stderr sent to a pipe; returns what it wrote.
template <typename Fn>
std::string CaptureStderr(Fn fn) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  fflush(stderr);
  int saved = dup(STDERR_FILENO);
  dup2(fds[1], STDERR_FILENO);
  close(fds[1]);
  fn();
  fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  return out;
}

TEST(Log, OneLinePrefixedWithTheProgram) {
  EXPECT_EQ(CaptureStderr([] { Log("checking {} in {}", "abc", "/tmp/x"); }), "pipeline: checking abc in /tmp/x\n");
  EXPECT_EQ(CaptureStderr([] { LogWarning("key {} is not known; ignored", "foo"); }),
            "pipeline: warning: key foo is not known; ignored\n");
}

TEST(Log, NewlinesInsideAMessageDoNotStartNewLines) {
  EXPECT_EQ(CaptureStderr([] { Log("{}", "first\nsecond\r\nthird"); }), "pipeline: first second  third\n");
  EXPECT_EQ(CaptureStderr([] { LogLine("pipeline task: internal error: x\n"); }),
            "pipeline task: internal error: x\n");
}

TEST(Log, KeepsOrderWithStdioOnStderr) {
  EXPECT_EQ(CaptureStderr([] {
              fputs("usage first\n", stderr);
              Log("then this");
            }),
            "usage first\npipeline: then this\n");
}

}  // namespace
}  // namespace pipeline
