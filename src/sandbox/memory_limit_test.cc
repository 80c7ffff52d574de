#include "sandbox/memory_limit.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "util/files.h"
#include "util/text.h"

namespace pipeline {
namespace {

// The memory line of a /proc/<pid>/cgroup or /proc/thread-self/cgroup file.
std::string MemoryLine(const std::string& file) {
  auto text = ReadFile(file);
  if (!text.ok()) return "";
  for (const auto& line : Split(*text, '\n'))
    if (line.find(":memory:") != std::string::npos) return line;
  return "";
}

// What a confined start relies on with cgroup v1: only the spawning thread
// moves, and what it forks starts inside the run's cgroup.
TEST(MemoryCgroupTest, AThreadAloneMovesAndWhatItForksStartsInside) {
  if (ProbeMemoryControl() != MemoryControl::kCgroupV1) GTEST_SKIP() << "no writable cgroup v1 memory hierarchy";
  auto cg = MemoryCgroup::Create("pipeline-run-thread-test-" + std::to_string(getpid()), 256LL << 20);
  ASSERT_TRUE(cg.ok()) << cg.message();
  ASSERT_TRUE(cg->ThreadMoves());
  std::string name = cg->dir().substr(cg->dir().find_last_of('/'));
  std::string before = MemoryLine("/proc/self/cgroup");

  ASSERT_TRUE(cg->EnterThread().ok());
  EXPECT_NE(MemoryLine("/proc/thread-self/cgroup").find(name), std::string::npos);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  pid_t child = fork();
  if (child == 0) {
    close(p[0]);
    std::string line = MemoryLine("/proc/self/cgroup");
    (void)!write(p[1], line.data(), line.size());
    _exit(0);
  }
  ASSERT_GT(child, 0);
  close(p[1]);
  EXPECT_TRUE(cg->LeaveThread().ok());
  std::string child_line;
  char buf[512];
  for (ssize_t n; (n = read(p[0], buf, sizeof buf)) > 0;) child_line.append(buf, static_cast<size_t>(n));
  close(p[0]);
  waitpid(child, nullptr, 0);

  EXPECT_NE(child_line.find(name), std::string::npos) << child_line;
  EXPECT_EQ(MemoryLine("/proc/thread-self/cgroup"), before);
  std::string dir = cg->dir();
  cg->Remove();
  EXPECT_FALSE(IsDirectory(dir));
}

}  // namespace
}  // namespace pipeline
