// For the merge queue's unit tests: a real repository with a first commit on
// main, and branches off main with one commit each.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "git/git.h"
#include "testutil/testutil.h"

namespace pipeline::integrate_testing {

class GitRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::InitGitRepo(dir_.path());
    git_ = std::make_unique<Git>(RealProcessRunner(), dir_.path());
  }
  // `git -C repo args...`, its stdout without the trailing newlines.
  std::string Sh(std::vector<std::string> args) {
    args.insert(args.begin(), {"git", "-C", dir_.path()});
    auto r = testing::RunArgv(args);
    EXPECT_TRUE(r.ok()) << r.err;
    std::string out = r.out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  // A branch off main whose one commit writes file; returns that commit.
  std::string CommitOnBranch(const std::string& branch, const std::string& file, const std::string& text,
                             const std::string& message) {
    Sh({"checkout", "-q", "-b", branch, "main"});
    testing::WriteTextFile(dir_ / file, text);
    Sh({"add", file});
    Sh({"commit", "-q", "-m", message});
    std::string sha = Sh({"rev-parse", "HEAD"});
    Sh({"checkout", "-q", "main"});
    return sha;
  }

  testing::TempDir dir_;
  std::unique_ptr<Git> git_;
};

}  // namespace pipeline::integrate_testing
