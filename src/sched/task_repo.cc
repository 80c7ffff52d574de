#include "sched/task_repo.h"

#include "git/git.h"
#include "git/paths.h"
#include "util/files.h"

namespace pipeline {
namespace {

class GitTaskRepo final : public TaskRepo {
 public:
  GitTaskRepo(ProcessRunner& runner, RootPaths paths)
      : paths_(std::move(paths)), git_(runner, paths_.repo()) {}

  Result<std::string> CurrentBranch() override { return git_.CurrentBranch(); }
  Result<std::string> BranchHead(const std::string& branch) override {
    return git_.RevParse("refs/heads/" + branch);
  }
  Result<std::string> EnsureWorktree(const std::string& task_id, const std::string& base) override {
    return git_.EnsureWorktree(paths_, task_id, base);
  }
  Result<int> CommitsAhead(const std::string& task_id, const std::string& base) override {
    PL_ASSIGN_OR_RETURN(std::string branch, TaskBranch(task_id));
    return git_.CommitsAhead(branch, base);
  }
  Result<bool> MergedInto(const std::string& task_id, const std::string& base) override {
    PL_ASSIGN_OR_RETURN(std::string branch, TaskBranch(task_id));
    auto ahead = git_.CommitsAhead("refs/heads/" + branch, "refs/heads/" + base);
    auto held = git_.BaseHolds("refs/heads/" + base, "refs/heads/" + branch);
    return ahead.ok() && *ahead > 0 && held.ok() && *held;
  }
  Result<std::vector<std::string>> RemoveWorktree(const std::string& task_id, const std::string& base) override {
    return git_.RemoveWorktree(paths_, task_id, /*delete_branch=*/true, base);
  }
  Result<std::string> TakeRunCommits(const std::string& workspace, const std::string& task_id,
                                     const std::string& base) override {
    return git_.TakeHeadOntoTaskBranch(workspace, task_id, base);
  }
  Status CheckoutTaskCommit(const std::string& task_id, const std::string& dir) override {
    PL_ASSIGN_OR_RETURN(std::string branch, TaskBranch(task_id));
    auto exported = git_.ExportTree("refs/heads/" + branch, dir);
    // A directory git does not know (a crash inside `worktree add`): ours by name.
    if (!exported.ok() && PathExists(dir) && RemoveAll(dir).ok()) exported = git_.ExportTree("refs/heads/" + branch, dir);
    return exported.ok() ? Status::Ok() : Status(exported.error());
  }
  Result<std::optional<std::string>> CheckoutOfBranch(const std::string& branch) override {
    return git_.WorktreeWithBranchCheckedOut(branch);
  }
  Result<std::vector<std::string>> ListTaskWorktrees() override { return git_.ListTaskWorktrees(paths_); }

 private:
  RootPaths paths_;
  Git git_;
};

}  // namespace

std::unique_ptr<TaskRepo> MakeGitTaskRepo(ProcessRunner& runner, const RootPaths& paths) {
  return std::make_unique<GitTaskRepo>(runner, paths);
}

}  // namespace pipeline
