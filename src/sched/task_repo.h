// The git operations the scheduler makes on task branches and worktrees, as
// a seam: GitTaskRepo runs git; tests and the simulation use FakeTaskRepo
// (fake_task_repo.h), which keeps branches in memory, so a step costs no
// process. The merge itself is the integrate worker's (src/integrate), not
// the scheduler's.
#pragma once

#include <memory>
#include <optional>
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
  // The commit a branch points at (the merge queue re-checks a red base when
  // it moves). Default: unknown (""), so only the periodic re-check applies.
  virtual Result<std::string> BranchHead(const std::string& branch) {
    (void)branch;
    return std::string();
  }
  // The task's worktree on branch pipeline/<id>, created from base when
  // missing; returns its path.
  virtual Result<std::string> EnsureWorktree(const std::string& task_id, const std::string& base) = 0;
  // Commits on the task's branch that base lacks; an error when there is no branch.
  virtual Result<int> CommitsAhead(const std::string& task_id, const std::string& base) = 0;
  // The base holds the task branch's own work (a merge that happened before
  // its worker could answer): the branch has commits of its own and base
  // contains them (as ancestors, or squashed: merging adds nothing).
  virtual Result<bool> MergedInto(const std::string& task_id, const std::string& base) = 0;
  // Removes the task's worktree and branch; commits base does not hold are
  // kept first under refs/pipeline/archive/<task>/<n>, whose names it returns.
  virtual Result<std::vector<std::string>> RemoveWorktree(const std::string& task_id, const std::string& base) = 0;
  // The run's commits onto the task branch wherever the agent put them: a
  // branch of its own (or a detached HEAD) in workspace that continues the
  // task branch is taken onto it (what was done, "" when nothing moved);
  // anything else is kRefused with the reason (and archived).
  virtual Result<std::string> TakeRunCommits(const std::string& workspace, const std::string& task_id,
                                             const std::string& base) = 0;
  // A clean detached checkout of the task branch's commit in dir (the
  // verify run's own checkout), reset and cleaned when it exists.
  virtual Status CheckoutTaskCommit(const std::string& task_id, const std::string& dir) = 0;
  // Where branch is checked out (a person's working tree), if anywhere.
  virtual Result<std::optional<std::string>> CheckoutOfBranch(const std::string& branch) = 0;
  // Task ids that have a worktree under the root.
  virtual Result<std::vector<std::string>> ListTaskWorktrees() = 0;
};

// The real one: git in the repository the root belongs to.
std::unique_ptr<TaskRepo> MakeGitTaskRepo(ProcessRunner& runner, const RootPaths& paths);

}  // namespace pipeline
