#include "sched/fake_task_repo.h"

#include "git/paths.h"

namespace pipeline {

FakeTaskRepo::FakeTaskRepo(RootPaths paths, std::string current_branch)
    : paths_(std::move(paths)), current_(std::move(current_branch)) {}

void FakeTaskRepo::Merge(const std::string& task_id) {
  merged_.insert(task_id);
  ahead_.erase(task_id);
}

Result<std::string> FakeTaskRepo::EnsureWorktree(const std::string& task_id, const std::string&) {
  if (fail_worktrees_) return Unavailable("git worktree add failed (injected)");
  PL_ASSIGN_OR_RETURN(std::string path, TaskWorktreePath(paths_, task_id));
  if (worktrees_.insert(task_id).second) ++worktrees_added_;
  return path;
}

Result<int> FakeTaskRepo::CommitsAhead(const std::string& task_id, const std::string&) {
  auto it = ahead_.find(task_id);
  if (it == ahead_.end() && !worktrees_.count(task_id)) return NotFound("no branch for " + task_id);
  return it == ahead_.end() ? 0 : it->second;
}

Result<bool> FakeTaskRepo::MergedInto(const std::string& task_id, const std::string&) {
  return merged_.count(task_id) > 0;
}

Status FakeTaskRepo::RemoveWorktree(const std::string& task_id) {
  worktrees_.erase(task_id);
  ahead_.erase(task_id);
  return Status::Ok();
}

Result<std::vector<std::string>> FakeTaskRepo::ListTaskWorktrees() {
  return std::vector<std::string>(worktrees_.begin(), worktrees_.end());
}

}  // namespace pipeline
