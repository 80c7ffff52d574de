// A TaskRepo without git, for scheduler tests and the simulation: branches
// are counters in memory. A dev run that "commits" calls AddCommit; an
// integration that merged calls Merge.
#pragma once

#include <map>
#include <set>
#include <string>

#include "sched/task_repo.h"

namespace pipeline {

class FakeTaskRepo final : public TaskRepo {
 public:
  explicit FakeTaskRepo(RootPaths paths, std::string current_branch = "main");

  // Test controls.
  void AddCommit(const std::string& task_id) { ++ahead_[task_id]; }
  void Merge(const std::string& task_id);  // the branch is now contained in the base
  void FailWorktrees(bool fail) { fail_worktrees_ = fail; }
  bool HasWorktree(const std::string& task_id) const { return worktrees_.count(task_id) > 0; }
  int worktrees_added() const { return worktrees_added_; }

  Result<std::string> CurrentBranch() override { return current_; }
  Result<std::string> EnsureWorktree(const std::string& task_id, const std::string& base) override;
  Result<int> CommitsAhead(const std::string& task_id, const std::string& base) override;
  Result<bool> MergedInto(const std::string& task_id, const std::string& base) override;
  Status RemoveWorktree(const std::string& task_id) override;
  Result<std::vector<std::string>> ListTaskWorktrees() override;

 private:
  RootPaths paths_;
  std::string current_;
  std::map<std::string, int> ahead_;
  std::set<std::string> merged_, worktrees_;
  bool fail_worktrees_ = false;
  int worktrees_added_ = 0;
};

}  // namespace pipeline
