// Shared set-up for the black-box tests of `pipeline integrate-task` and
// `pipeline review`: a git repository with a pipeline store, a task in it,
// and its branch pipeline/<id>.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "store/root.h"
#include "tasks/task_store.h"
#include "testutil/testutil.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline::testing {

class IntegrateCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = dir_.path() + "/repo";
    ASSERT_TRUE(MakeDirs(repo_).ok());
    InitGitRepo(repo_);
    auto init = RunPipeline({"init"}, repo_);
    ASSERT_EQ(init.exit.exit_code, 0) << init.err;
    paths_.root = repo_ + "/.pipeline";
  }

  std::string Git(std::vector<std::string> args, const std::string& dir = "") {
    args.insert(args.begin(), {"git", "-C", dir.empty() ? repo_ : dir});
    auto r = RunArgv(args);
    EXPECT_TRUE(r.ok()) << "git " << args[3] << ": " << r.err;
    return Trim(r.out);
  }
  std::string Rev(const std::string& rev) { return Git({"rev-parse", rev}); }

  // A task in the store (status as given) and one commit on its branch
  // writing path=text, made in a worktree of its own.
  std::string MakeTask(const std::string& title, const std::string& path, const std::string& text,
                       TaskStatus status = TaskStatus::kVerified, const std::string& ns = "app") {
    auto db = OpenStore(paths_);
    EXPECT_TRUE(db.ok()) << db.message();
    TaskStore store(**db, SystemClock());
    NewTask n;
    n.title = title;
    n.ns = ns;
    auto t = store.Create(n);
    EXPECT_TRUE(t.ok()) << t.message();
    EXPECT_TRUE(store.SetStatus(t->id, status).ok());
    std::string wt = dir_.path() + "/wt-" + t->id;
    Git({"worktree", "add", "-q", "-b", "pipeline/" + t->id, wt, "main"});
    WriteTextFile(wt + "/" + path, text);
    Git({"add", path}, wt);
    Git({"commit", "-q", "-m", "work on " + t->id}, wt);
    return t->id;
  }

  Task GetTask(const std::string& id) {
    auto db = OpenStore(paths_);
    EXPECT_TRUE(db.ok());
    TaskStore store(**db, SystemClock());
    auto t = store.Get(id);
    EXPECT_TRUE(t.ok()) << t.message();
    return t.ok() ? *t : Task{};
  }

  void WriteConfig(const std::string& toml) { WriteTextFile(paths_.config(), toml); }

  // The worker's last stdout line, parsed.
  static nlohmann::json LastLine(const CommandResult& r) {
    std::string t = Trim(r.out);
    size_t nl = t.find_last_of('\n');
    auto j = nlohmann::json::parse(nl == std::string::npos ? t : t.substr(nl + 1), nullptr, false);
    EXPECT_TRUE(j.is_object()) << "stdout: " << r.out << "\nstderr: " << r.err;
    return j;
  }

  CommandResult Integrate(const std::vector<std::string>& extra, const std::map<std::string, std::string>& env = {}) {
    std::vector<std::string> args = {"integrate-task"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunPipeline(args, repo_, env);
  }

  std::string Status() { return Git({"status", "--porcelain", "--untracked-files=no"}); }

  TempDir dir_;
  std::string repo_;
  RootPaths paths_;
};

}  // namespace pipeline::testing
