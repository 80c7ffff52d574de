// git through its CLI. Every call is `git -C <dir> ...` from an argv vector
// through the ProcessRunner seam, with LC_ALL=C (so messages can be matched),
// GIT_TERMINAL_PROMPT=0 (a child must never wait on a prompt) and a deadline.
// Variables such as GIT_DIR that a hook may have exported are removed, so the
// directory given is the repository used.
//
// A Git object is bound to one repository (its main working tree). It holds
// no state besides the cached commit identity (filled under a lock), so the
// merge queue may call it from several threads at once.
//
// Integration needs no checkout: MergeTree (`git merge-tree --write-tree`)
// computes the merged tree, CommitTree makes the commit, and
// CompareAndSwapRef (`git update-ref <ref> <new> <old>`) moves the base
// branch only if nobody else moved it meanwhile.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proc/process.h"
#include "store/root.h"
#include "util/status.h"

namespace pipeline {

struct MergeResult {
  bool clean = false;
  std::string tree;  // the merged tree; with conflicts it holds conflict markers
  std::vector<std::string> conflicted_files;
  std::string messages;  // git's informational and CONFLICT lines, one per line
};

// One entry of `git worktree list --porcelain`.
struct WorktreeEntry {
  std::string path;
  std::string head;    // sha, empty for a bare repository
  std::string branch;  // "refs/heads/x", empty when detached
  bool bare = false;
  bool prunable = false;  // its directory is gone
};

// One archive ref (git/paths.h): commits of a task kept because the base did
// not hold them when its branch or worktree went.
struct ArchiveEntry {
  std::string ref;      // refs/pipeline/archive/<task>/<n>
  std::string task_id;
  int n = 0;
  std::string sha;
  std::string subject;  // of the archived commit
};

// A full object id as git prints it (40 or 64 lowercase hex digits).
bool IsHexCommitId(std::string_view s);

class Git {
 public:
  static constexpr int64_t kTimeoutMs = 120000;

  // repo_dir: any directory of the repository; worktrees are added from it.
  Git(ProcessRunner& runner, std::string repo_dir);

  const std::string& repo_dir() const { return repo_dir_; }

  // --- reading ---

  // The full sha of rev; kNotFound when it does not resolve.
  Result<std::string> RevParse(const std::string& rev);
  // The sha checked out in worktree.
  Result<std::string> Head(const std::string& worktree);
  // The branch checked out in the repository (short name, e.g. "main"), the
  // default base. kNotFound when HEAD is detached.
  Result<std::string> CurrentBranch();
  // Commits on branch that base lacks (`git rev-list --count base..branch`).
  Result<int> CommitsAhead(const std::string& branch, const std::string& base);
  Result<std::vector<WorktreeEntry>> ListWorktrees();
  // The worktree that has refs/heads/<branch> checked out ("main" and
  // "refs/heads/main" both work), if any.
  Result<std::optional<std::string>> WorktreeWithBranchCheckedOut(const std::string& branch);
  // No staged or unstaged changes to tracked files (untracked files ignored).
  Result<bool> IsClean(const std::string& worktree);

  // --- task worktrees (names from git/paths.h) ---

  // The task's worktree on branch pipeline/<id>, created from base_branch when
  // missing and reused when present (a task keeps it across its patchsets).
  // Repairs what a crash or a person leaves behind: a registration whose
  // directory was deleted is pruned and the worktree added again; a branch
  // without a worktree gets one; a directory that git does not know (a crash
  // inside `git worktree add`) is removed and added again. Returns the path.
  Result<std::string> EnsureWorktree(const RootPaths& paths, std::string_view task_id,
                                     const std::string& base_branch);
  // Removes the task's worktree and its verify checkout, then (when asked)
  // its branch. Nothing the base does not hold is lost: the worktree's HEAD
  // and the branch's tip are first kept under the task's next archive ref
  // (ArchiveUnlessHeld; base empty: the repository's current branch).
  // Returns the archive refs made. Removing what is already gone succeeds.
  Result<std::vector<std::string>> RemoveWorktree(const RootPaths& paths, std::string_view task_id,
                                                  bool delete_branch, const std::string& base = "");
  // If the workspace's HEAD left the task branch (the agent ran `git checkout
  // -b x`, or detached HEAD) and descends from the branch's tip, the branch is
  // fast-forwarded to it and checked out again (files untouched): the
  // patchset is what the run produced wherever its commits went. Returns a
  // sentence saying what was taken, or "" when HEAD was on the branch. When
  // HEAD does not descend from the tip: kRefused ("commits on branch x, not on
  // the task branch pipeline/<id>"), after archiving HEAD and trying to
  // check the task branch out again (local changes stop that; they stay).
  Result<std::string> TakeHeadOntoTaskBranch(const std::string& worktree, std::string_view task_id,
                                             const std::string& base);

  // --- archive (commits kept for a person; see git/paths.h) ---

  // Whether base holds commit's work: commit is an ancestor of base, or
  // merging it into base changes nothing (its changes were squashed in).
  Result<bool> BaseHolds(const std::string& base, const std::string& commit);
  // Keeps commit under the task's next archive ref unless base holds it or
  // one of the task's archive refs already points at it. Returns the new ref.
  Result<std::optional<std::string>> ArchiveUnlessHeld(std::string_view task_id, const std::string& commit,
                                                       const std::string& base);
  // Every archive ref (task_id empty) or the task's, by task then number.
  Result<std::vector<ArchiveEntry>> ListArchive(std::string_view task_id = "");
  // Deletes ref if it still points at old_sha (kConflict when it moved).
  Status DeleteRef(const std::string& ref, const std::string& old_sha);
  // Ids of tasks with a worktree under the root: registered ones and plain
  // directories with a valid task id as name (for orphan cleanup). Sorted.
  Result<std::vector<std::string>> ListTaskWorktrees(const RootPaths& paths);

  // --- merge-queue primitives (no checkout touched) ---

  // Merges branch_commit into base_commit in memory (`git merge-tree
  // --write-tree`). A conflict is a successful call with clean == false.
  Result<MergeResult> MergeTree(const std::string& base_commit, const std::string& branch_commit);
  // A commit object for tree with the given parents. Author and committer are
  // the repository's configured identity, else "pipeline <pipeline@localhost>".
  Result<std::string> CommitTree(const std::string& tree, const std::vector<std::string>& parents,
                                 const std::string& message);
  // The commits that put tree (a verified result) on base_sha; returns the
  // new head. mode "squash": one commit, parent base_sha, squash_message.
  // mode "merge": that same commit S, then a merge commit (base_sha, S) with
  // the same tree and merge_message: the first-parent history shows one
  // merge per task, and the branch merged is rebuilt as the final patchset
  // alone, never the attempts before it. Every commit made holds tree.
  Result<std::string> CommitOnto(std::string_view mode, const std::string& tree, const std::string& base_sha,
                                 const std::string& squash_message, const std::string& merge_message);
  // The commit that integrates branch into base, without moving any ref
  // (MergeTree, then CommitOnto with message for both commits). kConflict
  // (naming the files) when the merge does not apply cleanly.
  Result<std::string> SquashOrMergeCommit(std::string_view mode, const std::string& base,
                                          const std::string& branch, const std::string& message);
  // `git update-ref ref new_sha old_sha`: moves ref only if it still points at
  // old_sha (empty old_sha: only if ref does not exist). ref must be a full
  // name ("refs/heads/main"). kConflict when the ref had moved.
  Status CompareAndSwapRef(const std::string& ref, const std::string& new_sha, const std::string& old_sha);

  // Advances the branch checked out in a person's clean working tree from
  // old_sha to new_sha: `git merge --ff-only new_sha`, which updates files and
  // index and then the ref; kRefused (nothing changed) when git refuses a
  // non-fast-forward or local changes in the touched files. kConflict when
  // HEAD is neither old_sha nor new_sha.
  //
  // Crash window: moving the ref and the files are two steps. If git dies
  // after writing files but before the ref, HEAD is still old_sha and calling
  // again finishes the job. If the ref was moved first (CompareAndSwapRef on a
  // checked-out branch, or a crash) HEAD is new_sha while the index and files
  // still match old_sha, so the checkout looks as if someone had reverted the
  // change. This call detects that (index equals old_sha's tree) and repairs
  // it with `git read-tree -m -u old_sha new_sha`, which carries the files
  // forward and keeps unrelated local edits.
  Status FastForwardCheckout(const std::string& worktree, const std::string& old_sha,
                             const std::string& new_sha);

  // Materialises commit in dir as a detached worktree, e.g. to run checks on a
  // merge result: `git worktree add --detach dir commit`, or when dir is
  // already a worktree of this repository, `checkout --detach -f` + `clean
  // -fdx`. Refuses a dir that exists and is not one. Returns the commit's sha.
  Result<std::string> ExportTree(const std::string& commit, const std::string& dir);

 private:
  // Runs git -C dir args...; fails when git cannot start or times out.
  Result<CommandResult> Run(const std::string& dir, const std::vector<std::string>& args,
                            const std::string& stdin_data = "",
                            const std::map<std::string, std::string>& env = {});
  // Like Run, but a non-zero exit is an error carrying git's message; returns
  // stdout with the trailing newline removed.
  Result<std::string> RunOk(const std::string& dir, const std::vector<std::string>& args,
                            const std::string& stdin_data = "",
                            const std::map<std::string, std::string>& env = {});
  Result<std::optional<WorktreeEntry>> FindWorktree(const std::string& path);
  Status Prune();
  Result<std::map<std::string, std::string>> IdentityEnv();
  // Exit 0 of `git merge-base --is-ancestor a b`: true; exit 1: false.
  Result<bool> IsAncestor(const std::string& a, const std::string& b);
  // A commit's full id: a full id as it is (the git command given it refuses
  // anything but a commit), anything else through `rev-parse <rev>^{commit}`.
  // The merge queue chains dozens of merges and checks: a rev-parse process
  // for each id it already holds would double their cost.
  Result<std::string> CommitId(const std::string& rev);
  // Removes a detached scratch checkout (worktree or plain directory).
  Status RemoveCheckout(const std::string& dir);

  ProcessRunner& runner_;
  std::string repo_dir_;
  std::optional<std::map<std::string, std::string>> identity_env_;  // cached by IdentityEnv
  // The merge queue builds and checks heads on several threads: the one
  // piece of state is filled under this lock (shared so a Git stays copyable).
  std::shared_ptr<std::mutex> identity_mu_ = std::make_shared<std::mutex>();
  // `git worktree add` and `git worktree list` from two threads at once: the
  // list can read the other's half-written record and fail. ExportTree makes
  // its worktrees one at a time.
  std::shared_ptr<std::mutex> worktree_mu_ = std::make_shared<std::mutex>();
};

}  // namespace pipeline
