// Keeping a run's hands off every branch but its own. The workspace is a git
// worktree sharing the repository's .git; inside the sandbox that .git is
// read-only except for the object store (create-only), the worktree's own
// admin directory (.git/worktrees/<name>: its HEAD, index, reflog) and the
// branch refs, which the run sees as a private copy of refs/heads. After the
// run only the task's own branch is carried back to the repository, with a
// compare-and-set on the value it had when the run started. Moving the base
// branch, another task's branch or a tag changes the run's copy only.
#pragma once

#include <optional>
#include <string>

#include "util/status.h"

namespace pipeline {

struct GitConfinement {
  std::string common_dir;       // the repository's .git
  std::string worktree_gitdir;  // .git/worktrees/<name>; empty when the workspace is the main checkout
  std::string head_file_text;   // the worktree's HEAD before the run
  std::string branch_ref;       // "refs/heads/pipeline/T1"; empty when HEAD is detached
  std::optional<std::string> branch_before;  // its value at the start (nullopt: unborn)
  std::string private_heads;    // mounted over <common_dir>/refs/heads
  // <common_dir>/logs (the branches' reflogs) is an empty tmpfs in the
  // sandbox: what the run logs there is thrown away with the run.
};

// Reads the workspace's git layout and makes private_dir/git-heads a copy
// of refs/heads. nullopt when the workspace is not in a git repository.
Result<std::optional<GitConfinement>> PrepareGitConfinement(const std::string& workspace,
                                                           const std::string& private_dir);
// Its two halves: the layout read and an empty private_dir/git-heads made
// (before the sandbox starts, which mounts it), then the copy (while the
// sandbox starts, before the agent runs: confined_run.h).
Result<std::optional<GitConfinement>> ReadGitConfinement(const std::string& workspace,
                                                        const std::string& private_dir);
Status FillPrivateHeads(const GitConfinement& g);

// Makes heads_dir a copy of <common_dir>/refs/heads: only what differs is
// written (in place) and what is gone removed, so a copy made earlier (a
// spare private directory's, private_dir.h) costs a start no new files
// but for the branches made since.
Status CopyBranchRefs(const std::string& common_dir, const std::string& heads_dir);

// The commit the workspace's HEAD named when the confinement was prepared,
// from what PrepareGitConfinement read (the branch's value, or a detached
// HEAD's id): what `git rev-parse --verify HEAD` answers, without starting
// git on the run's start. nullopt: not known from the files (an unborn
// branch, a HEAD that is neither): ask git.
std::optional<std::string> HeadCommitBefore(const GitConfinement& g);

// After the run: the task branch takes the value the run gave it (when it
// changed, and only if the real ref still holds branch_before), and the
// worktree's HEAD is pointed back at the task branch if the run moved it.
Status CarryBackTaskBranch(const GitConfinement& g, const std::string& workspace);

}  // namespace pipeline
