#include "sandbox/git_identity.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "testutil/testutil.h"
#include "util/files.h"

namespace pipeline {
namespace {

// Points git's global and system config at files of the test, and back.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(GitIdentityTest, AskedOnceWhileTheFilesItCameFromAreUnchanged) {
  testing::TempDir dir;
  std::string common = dir / ".git", global = dir / "global", included = dir / "work.inc";
  ASSERT_TRUE(MakeDirs(common).ok());
  testing::WriteTextFile(common + "/config", "[core]\n");
  testing::WriteTextFile(global, "[include]\n");
  testing::WriteTextFile(included, "[user]\n");
  ScopedEnv g("GIT_CONFIG_GLOBAL", global), s("GIT_CONFIG_SYSTEM", dir / "none");
  int asked = 0;
  std::string answer = "file:" + global + "\tuser.name Old Name\nfile:" + included + "\tuser.name Ada\n" +
                       "file:.git/config\tuser.email ada@example.com\n";
  auto ask = [&](const std::string&) -> Result<std::string> {
    ++asked;
    return answer;
  };
  std::string cache = dir / "identity";
  auto env = GitIdentityEnv(dir.path(), common, cache, ask);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(env["GIT_AUTHOR_NAME"], "Ada");  // the last value wins
  EXPECT_EQ(env["GIT_COMMITTER_NAME"], "Ada");
  EXPECT_EQ(env["GIT_AUTHOR_EMAIL"], "ada@example.com");
  EXPECT_EQ(env["GIT_COMMITTER_EMAIL"], "ada@example.com");
  EXPECT_EQ(GitIdentityEnv(dir.path(), common, cache, ask), env);
  EXPECT_EQ(asked, 1) << "nothing changed: the cache answers";

  // A change to the repository's config, to the global one, or to a file the
  // value came from: git is asked again.
  testing::WriteTextFile(common + "/config", "[core]\n\tbare = false\n");
  (void)GitIdentityEnv(dir.path(), common, cache, ask);
  EXPECT_EQ(asked, 2);
  testing::WriteTextFile(included, "[user]\n\tname = Ada L\n");
  answer = "file:" + included + "\tuser.name Ada L\n";
  EXPECT_EQ(GitIdentityEnv(dir.path(), common, cache, ask)["GIT_AUTHOR_NAME"], "Ada L");
  EXPECT_EQ(asked, 3);
  EXPECT_EQ(GitIdentityEnv(dir.path(), common, cache, ask)["GIT_AUTHOR_NAME"], "Ada L");
  EXPECT_EQ(asked, 3);
  {
    // Another global file chosen by the environment: not the cached answer.
    ScopedEnv other("GIT_CONFIG_GLOBAL", dir / "other");
    (void)GitIdentityEnv(dir.path(), common, cache, ask);
    EXPECT_EQ(asked, 4);
  }

  // A value from the command line is not a file to watch: never cached.
  answer = "command line:\tuser.name Cli\n";
  (void)GitIdentityEnv(dir.path(), common, dir / "identity2", ask);
  (void)GitIdentityEnv(dir.path(), common, dir / "identity2", ask);
  EXPECT_EQ(asked, 6);
  // No cache file: asked every time.
  (void)GitIdentityEnv(dir.path(), common, "", ask);
  EXPECT_EQ(asked, 7);
}

TEST(GitIdentityTest, TheRealGitAnswersWithOrigins) {
  testing::TempDir dir;
  testing::InitGitRepo(dir.path());  // user.name Test, user.email test@example.com in .git/config
  auto env = GitIdentityEnv(dir.path(), dir / ".git", dir / "identity");
  EXPECT_EQ(env["GIT_AUTHOR_NAME"], "Test");
  EXPECT_EQ(env["GIT_COMMITTER_EMAIL"], "test@example.com");
  int asked = 0;
  auto counting = [&](const std::string& ws) {
    ++asked;
    return AskGitConfig(ws);
  };
  EXPECT_EQ(GitIdentityEnv(dir.path(), dir / ".git", dir / "identity", counting), env);
  EXPECT_EQ(asked, 0);
}

}  // namespace
}  // namespace pipeline
