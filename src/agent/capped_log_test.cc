#include "agent/capped_log.h"

#include <gtest/gtest.h>

#include "testutil/testutil.h"

namespace pipeline {
namespace {

TEST(CappedLogTest, SmallOutputIsKeptWhole) {
  testing::TempDir dir;
  CappedLog log;
  ASSERT_TRUE(log.Open(dir / "out.log", 100).ok());
  log.Append("hello ");
  log.Append("world\n");
  log.Close();
  EXPECT_EQ(testing::ReadTextFile(dir / "out.log"), "hello world\n");
}

TEST(CappedLogTest, KeepsHeadAndTailOfAFlood) {
  testing::TempDir dir;
  CappedLog log;
  ASSERT_TRUE(log.Open(dir / "out.log", 20).ok());
  std::string all;
  for (int i = 0; i < 1000; ++i) {
    std::string chunk = std::to_string(i) + ",";
    all += chunk;
    log.Append(chunk);
    if (i % 97 == 0) log.Flush();  // flushing mid-way must not disturb the result
  }
  log.Close();
  std::string text = testing::ReadTextFile(dir / "out.log");
  EXPECT_EQ(text.substr(0, 10), all.substr(0, 10));
  EXPECT_EQ(text.substr(text.size() - 10), all.substr(all.size() - 10));
  std::string marker = "\n[... " + std::to_string(all.size() - 20) + " bytes dropped ...]\n";
  EXPECT_EQ(text, all.substr(0, 10) + marker + all.substr(all.size() - 10));
  EXPECT_EQ(log.total_bytes(), all.size());
  EXPECT_EQ(log.dropped_bytes(), all.size() - 20);
}

TEST(CappedLogTest, OneHugeWriteIsCutToTheCap) {
  testing::TempDir dir;
  CappedLog log;
  ASSERT_TRUE(log.Open(dir / "out.log", 1000).ok());
  std::string big(1 << 20, 'x');
  big[0] = 'A';
  big.back() = 'Z';
  log.Append(big);
  log.Close();
  std::string text = testing::ReadTextFile(dir / "out.log");
  EXPECT_LT(text.size(), 1100u);
  EXPECT_EQ(text.front(), 'A');
  EXPECT_EQ(text.back(), 'Z');
}

}  // namespace
}  // namespace pipeline
