#include "sched/task_repo.h"

#include "git/git.h"
#include "git/paths.h"

namespace pipeline {
namespace {

class GitTaskRepo final : public TaskRepo {
 public:
  GitTaskRepo(ProcessRunner& runner, RootPaths paths)
      : runner_(runner), paths_(std::move(paths)), git_(runner, paths_.repo()) {}

  Result<std::string> CurrentBranch() override { return git_.CurrentBranch(); }
  Result<std::string> EnsureWorktree(const std::string& task_id, const std::string& base) override {
    return git_.EnsureWorktree(paths_, task_id, base);
  }
  Result<int> CommitsAhead(const std::string& task_id, const std::string& base) override {
    PL_ASSIGN_OR_RETURN(std::string branch, TaskBranch(task_id));
    return git_.CommitsAhead(branch, base);
  }
  Result<bool> MergedInto(const std::string& task_id, const std::string& base) override {
    PL_ASSIGN_OR_RETURN(std::string branch, TaskBranch(task_id));
    Command c;
    c.argv = {"git", "-C", paths_.repo(), "merge-base", "--is-ancestor", "refs/heads/" + branch,
              "refs/heads/" + base};
    c.timeout_ms = 60000;
    auto res = runner_.Run(c);
    return res.ok() && res->ok();
  }
  Status RemoveWorktree(const std::string& task_id) override {
    return git_.RemoveWorktree(paths_, task_id, /*delete_branch=*/true);
  }
  Result<std::vector<std::string>> ListTaskWorktrees() override { return git_.ListTaskWorktrees(paths_); }

 private:
  ProcessRunner& runner_;
  RootPaths paths_;
  Git git_;
};

}  // namespace

std::unique_ptr<TaskRepo> MakeGitTaskRepo(ProcessRunner& runner, const RootPaths& paths) {
  return std::make_unique<GitTaskRepo>(runner, paths);
}

}  // namespace pipeline
