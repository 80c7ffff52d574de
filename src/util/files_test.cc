// WriteFileAtomic in both durability modes: the new content replaces the old
// in one rename (no temporary file is left behind), and a path that cannot
// be written is an error that leaves the old file as it was.
#include "util/files.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

namespace pipeline {
namespace {

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pipeline-files-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  size_t Entries() const {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) n += e.path().empty() ? 0 : 1;
    return n;
  }
  std::string dir_;
};

TEST_F(FilesTest, WriteFileAtomicReplacesContentInBothModes) {
  std::string path = dir_ + "/f.txt";
  for (FileSync mode : {FileSync::kFsync, FileSync::kNoFsync}) {
    ASSERT_TRUE(WriteFileAtomic(path, "first\n", mode).ok());
    ASSERT_TRUE(WriteFileAtomic(path, "second, longer\n", mode).ok());
    auto text = ReadFile(path);
    ASSERT_TRUE(text.ok()) << text.message();
    EXPECT_EQ(*text, "second, longer\n");
    EXPECT_EQ(Entries(), 1u) << "a temporary file was left behind";
  }
}

TEST_F(FilesTest, FailedWriteKeepsTheOldFile) {
  std::string path = dir_ + "/f.txt";
  ASSERT_TRUE(WriteFileAtomic(path, "old\n").ok());
  // The target is now a non-empty directory: the rename must fail.
  std::string blocked = dir_ + "/d";
  ASSERT_TRUE(MakeDirs(blocked + "/inner").ok());
  Status s = WriteFileAtomic(blocked, "new\n", FileSync::kNoFsync);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(blocked), std::string::npos) << s.message();
  EXPECT_EQ(*ReadFile(path), "old\n");
  EXPECT_EQ(Entries(), 2u) << "a temporary file was left behind";
}

}  // namespace
}  // namespace pipeline
