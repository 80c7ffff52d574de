// The git operations the scheduler makes on task branches and worktrees, as
// a seam: GitTaskRepo runs git; tests and the simulation use FakeTaskRepo
// (fake_task_repo.h), which keeps branches in memory, so a step costs no
// process. The merge itself is the integrate worker's (src/integrate), not
// the scheduler's.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "proc/process.h"
#include "store/root.h"
#include "util/status.h"

namespace pipeline {

class TaskRepo {
 public:
  virtual ~TaskRepo() = default;
  // The branch checked out in the repository: the default base.
  virtual Result<std::string> CurrentBranch() = 0;
  // The task's worktree on branch pipeline/<id>, created from base when
  // missing; returns its path.
  virtual Result<std::string> EnsureWorktree(const std::string& task_id, const std::string& base) = 0;
  // Commits on the task's branch that base lacks; an error when there is no branch.
  virtual Result<int> CommitsAhead(const std::string& task_id, const std::string& base) = 0;
  // The task's branch is already contained in base (a merge that happened
  // before its worker could answer).
  virtual Result<bool> MergedInto(const std::string& task_id, const std::string& base) = 0;
  virtual Status RemoveWorktree(const std::string& task_id) = 0;
  // Task ids that have a worktree under the root.
  virtual Result<std::vector<std::string>> ListTaskWorktrees() = 0;
};

// The real one: git in the repository the root belongs to.
std::unique_ptr<TaskRepo> MakeGitTaskRepo(ProcessRunner& runner, const RootPaths& paths);

}  // namespace pipeline
