#include "sched/wait_loop.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "sched/sched_testing.h"
#include "util/files.h"

namespace pipeline {
namespace {

// A launcher whose one run "ends" when a byte is written to a pipe.
class PipeLauncher final : public Launcher {
 public:
  PipeLauncher() {
    if (pipe2(fds_, O_CLOEXEC) != 0) abort();
  }
  ~PipeLauncher() override {
    close(fds_[0]);
    close(fds_[1]);
  }
  void End() { ASSERT_EQ(write(fds_[1], "x", 1), 1); }

  Status Launch(const LaunchRequest&) override { return Status::Ok(); }
  void Adopt(const RunRecord&) override {}
  void Forget(const std::string&) override {}
  Status Reconcile(bool) override { return Status::Ok(); }
  std::vector<Watch> Watches() const override { return {Watch{fds_[0], "run-1"}}; }
  void OnReadable(const std::string& run_id) override { readable.push_back(run_id); }
  std::optional<Micros> PollEvery() const override { return std::nullopt; }
  Status Kill(const std::string&) override { return Status::Ok(); }
  void Detach(Micros) override {}

  std::vector<std::string> readable;

 private:
  int fds_[2];
};

TEST(Waiter, NothingHappensUntilTheTimeout) {
  Waiter w;
  PipeLauncher l;
  auto r = w.Wait(&l, 0);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_TRUE(r->timeout);
  EXPECT_FALSE(r->stop);
  EXPECT_FALSE(r->store);
  EXPECT_TRUE(r->ended.empty());
  EXPECT_TRUE(l.readable.empty());
}

TEST(Waiter, AnEndedRunIsReportedAndToldToTheLauncher) {
  Waiter w;
  PipeLauncher l;
  l.End();
  auto r = w.Wait(&l, 10'000'000);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_FALSE(r->timeout);
  EXPECT_EQ(r->ended, std::vector<std::string>{"run-1"});
  EXPECT_EQ(l.readable, std::vector<std::string>{"run-1"});
}

TEST(Waiter, AChangeUnderTheRootWakesIt) {
  sched_testing::ScratchDir dir;
  Waiter w;
  ASSERT_TRUE(w.WatchStore(dir.path()));
  ASSERT_TRUE(WriteFileAtomic(dir.path() + "/pipeline.db-wal", "x", FileSync::kNoFsync).ok());
  auto r = w.Wait(nullptr, 10'000'000);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_TRUE(r->store);
  EXPECT_FALSE(r->timeout);
  // Drained: the next wait sees nothing new.
  auto again = w.Wait(nullptr, 0);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->timeout);
}

}  // namespace
}  // namespace pipeline
