#include "sandbox/private_dir.h"

#include <dirent.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testutil/testutil.h"
#include "util/files.h"

namespace pipeline {
namespace {

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (struct dirent* e = readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") names.push_back(e->d_name);
    closedir(d);
  }
  return names;
}

int Count(const std::string& dir, const std::string& prefix) {
  auto names = ListDir(dir);
  int n = 0;
  for (const auto& name : names) n += name.rfind(prefix, 0) == 0;
  return n;
}

TEST(PrivateDirTest, MadeFreshWithoutASpare) {
  testing::TempDir dir;
  std::string sandbox = dir / "sandbox", priv = sandbox + "/run-1";
  ASSERT_TRUE(MakeDirs(priv + "/home/stale").ok());  // a stale one of the same run id goes
  ASSERT_TRUE(MakeRunPrivateDir(sandbox, priv).ok());
  for (const char* sub : kPrivateSubdirs) EXPECT_TRUE(IsDirectory(priv + "/" + sub)) << sub;
  EXPECT_FALSE(PathExists(priv + "/home/stale"));
}

TEST(PrivateDirTest, ASpareIsTakenOnceAndOnlyUpToTheCap) {
  testing::TempDir dir;
  std::string sandbox = dir / "sandbox";
  ASSERT_TRUE(MakeDirs(sandbox).ok());
  LeaveSparePrivateDir(sandbox, "", 2);
  LeaveSparePrivateDir(sandbox, "", 2);
  LeaveSparePrivateDir(sandbox, "", 2);
  EXPECT_EQ(Count(sandbox, "-spare-"), 2);
  EXPECT_EQ(Count(sandbox, "-making-"), 0);

  ASSERT_TRUE(MakeRunPrivateDir(sandbox, sandbox + "/run-1").ok());
  EXPECT_EQ(Count(sandbox, "-spare-"), 1);
  ASSERT_TRUE(MakeRunPrivateDir(sandbox, sandbox + "/run-2").ok());
  EXPECT_EQ(Count(sandbox, "-spare-"), 0);
  for (const char* run : {"/run-1/", "/run-2/"})
    for (const char* sub : kPrivateSubdirs) EXPECT_TRUE(IsDirectory(sandbox + run + sub)) << run << sub;
  EXPECT_TRUE(ListDir(sandbox + "/run-1/home").empty());
  // No spare left: the third start makes its own.
  ASSERT_TRUE(MakeRunPrivateDir(sandbox, sandbox + "/run-3").ok());
  EXPECT_TRUE(IsDirectory(sandbox + "/run-3/tmp"));
}

}  // namespace
}  // namespace pipeline
