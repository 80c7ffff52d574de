#include "slurm/result_watch.h"

#include <gtest/gtest.h>
#include <poll.h>

#include "testutil/testutil.h"
#include "util/files.h"

namespace pipeline::slurm {
namespace {

using pipeline::testing::TempDir;

// Whether the watch's descriptor is readable now (no waiting: the kernel
// queues the event before the rename returns).
bool Readable(const ResultWatch& w) {
  if (w.fd() < 0) return false;
  struct pollfd p = {w.fd(), POLLIN, 0};
  return poll(&p, 1, 0) == 1;
}

TEST(ResultWatchTest, AResultRenamedIntoAWatchedRunDirectoryIsReported) {
  TempDir dir;
  ASSERT_TRUE(MakeDirs(dir / "r-1").ok());
  ResultWatch w;
  ASSERT_TRUE(w.Add("r-1", dir / "r-1"));
  EXPECT_FALSE(Readable(w));
  ASSERT_TRUE(WriteFileAtomic(dir / "r-1/result.json", "{}\n").ok());  // tmp file, then rename
  EXPECT_TRUE(Readable(w));
  EXPECT_TRUE(w.Drain());
  EXPECT_FALSE(Readable(w)) << "drained";
}

TEST(ResultWatchTest, OtherFilesWakeButAreNotResults) {
  TempDir dir;
  ASSERT_TRUE(MakeDirs(dir / "r-1").ok());
  ResultWatch w;
  ASSERT_TRUE(w.Add("r-1", dir / "r-1"));
  ASSERT_TRUE(WriteFileAtomic(dir / "r-1/sandbox.txt", "x\n").ok());
  EXPECT_TRUE(Readable(w));
  EXPECT_FALSE(w.Drain());
}

TEST(ResultWatchTest, NothingWatchedMeansNoDescriptorAndARemovedRunIsNotReported) {
  TempDir dir;
  ASSERT_TRUE(MakeDirs(dir / "r-1").ok());
  ASSERT_TRUE(MakeDirs(dir / "r-2").ok());
  ResultWatch w;
  EXPECT_EQ(w.fd(), -1);
  ASSERT_TRUE(w.Add("r-1", dir / "r-1"));
  ASSERT_TRUE(w.Add("r-2", dir / "r-2"));
  EXPECT_GE(w.fd(), 0);
  w.Remove("r-1");
  w.Drain();  // the removal's own event
  ASSERT_TRUE(WriteFileAtomic(dir / "r-1/result.json", "{}\n").ok());
  EXPECT_FALSE(w.Drain()) << "r-1 is no longer watched";
  ASSERT_TRUE(WriteFileAtomic(dir / "r-2/result.json", "{}\n").ok());
  EXPECT_TRUE(w.Drain());
  w.Remove("r-2");
  EXPECT_EQ(w.fd(), -1);
}

TEST(ResultWatchTest, AMissingDirectoryIsNotWatched) {
  TempDir dir;
  ResultWatch w;
  EXPECT_FALSE(w.Add("r-1", dir / "absent"));
  EXPECT_EQ(w.fd(), -1);
}

}  // namespace
}  // namespace pipeline::slurm
