// Task worktrees and exported trees: created, reused, repaired, removed.
#include <dirent.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "git/git.h"
#include "git/paths.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline {
namespace {

// git records worktree paths made absolute but may resolve symlinks
// differently from us (e.g. a /tmp that is a link), so compare canonically.
std::string Canonical(const std::string& p) {
  std::error_code ec;
  auto c = std::filesystem::weakly_canonical(p, ec);
  return ec ? std::filesystem::path(p).lexically_normal().string() : c.string();
}

// Whether dir is a linked worktree of the repository whose git directory is
// git_dir, read from the files git keeps for it: dir/.git names the
// worktree's admin directory, whose gitdir file points back at dir/.git and
// whose commondir leads to git_dir. This is what `git worktree list` reads,
// without starting a git (the merge queue exports a tree per check).
bool IsLinkedWorktreeOf(const std::string& dir, const std::string& git_dir) {
  auto link = ReadFile(dir + "/.git");
  if (!link.ok() || !StartsWith(*link, "gitdir: ")) return false;
  const std::string admin = Trim(link->substr(8));
  auto back = ReadFile(admin + "/gitdir");
  auto common = ReadFile(admin + "/commondir");
  if (!back.ok() || !common.ok()) return false;
  if (Canonical(Trim(*back)) != Canonical(dir + "/.git")) return false;
  std::string c = Trim(*common);
  if (c.empty()) return false;
  if (c.front() != '/') c = admin + "/" + c;
  return Canonical(c) == Canonical(git_dir);
}

}  // namespace

Status Git::Prune() { return RunOk(repo_dir_, {"worktree", "prune"}).status(); }

Result<std::optional<WorktreeEntry>> Git::FindWorktree(const std::string& path) {
  PL_ASSIGN_OR_RETURN(auto entries, ListWorktrees());
  const std::string want = Canonical(path);
  for (auto& e : entries) {
    if (Canonical(e.path) == want) return std::optional<WorktreeEntry>(std::move(e));
  }
  return std::optional<WorktreeEntry>();
}

Result<std::string> Git::EnsureWorktree(const RootPaths& paths, std::string_view task_id,
                                        const std::string& base_branch) {
  PL_ASSIGN_OR_RETURN(std::string path, TaskWorktreePath(paths, task_id));
  PL_ASSIGN_OR_RETURN(std::string branch, TaskBranch(task_id));
  const std::string ref = "refs/heads/" + branch;

  PL_ASSIGN_OR_RETURN(auto found, FindWorktree(path));
  if (found && IsDirectory(path) && !found->prunable) {
    if (found->branch == ref) return path;  // the usual case: reuse
    // A run that ended on a branch of its own or a detached HEAD at the task
    // branch's tip (a failed run, whose commits are not taken): switching
    // back moves no file and loses nothing. Any other commit stays for a person.
    auto tip = RevParse(ref);
    if (tip.ok() && *tip == found->head && RunOk(path, {"switch", "--quiet", branch}).ok()) return path;
    return Conflict("worktree " + path + " has " +
                    (found->branch.empty() ? std::string("a detached HEAD") : found->branch) +
                    " checked out, not " + ref);
  }
  if (found) {
    // Registered, but its directory was deleted by hand: drop the record.
    PL_RETURN_IF_ERROR(Prune());
  } else if (PathExists(path)) {
    // A directory git does not know: what a crash inside `worktree add`
    // leaves. Commits live on the branch, not here, so it can go.
    PL_RETURN_IF_ERROR(RemoveAll(path));
  }
  PL_RETURN_IF_ERROR(MakeDirs(paths.worktrees_dir()));

  auto existing = RevParse(ref);
  if (existing.ok()) {
    // The branch outlived its worktree (removed, or pruned above): check it
    // out again, keeping the task's earlier commits.
    PL_ASSIGN_OR_RETURN(auto holder, WorktreeWithBranchCheckedOut(ref));
    if (holder) return Conflict("branch " + branch + " is already checked out at " + *holder);
    PL_RETURN_IF_ERROR(RunOk(repo_dir_, {"worktree", "add", "--quiet", path, branch}).status());
    return path;
  }
  if (existing.kind() != ErrorKind::kNotFound) return existing.error();

  auto base = RevParse(base_branch + "^{commit}");
  if (!base.ok()) {
    if (base.kind() == ErrorKind::kNotFound) {
      return NotFound("base branch " + Quoted(base_branch) + " not found in " + repo_dir_);
    }
    return base.error();
  }
  PL_RETURN_IF_ERROR(RunOk(repo_dir_, {"worktree", "add", "--quiet", "-b", branch, path, *base}).status());
  return path;
}

Status Git::RemoveCheckout(const std::string& dir) {
  PL_ASSIGN_OR_RETURN(auto found, FindWorktree(dir));
  if (found && IsDirectory(dir)) return RunOk(repo_dir_, {"worktree", "remove", "--force", found->path}).status();
  if (PathExists(dir)) PL_RETURN_IF_ERROR(RemoveAll(dir));
  if (found) PL_RETURN_IF_ERROR(Prune());
  return Status::Ok();
}

Result<std::vector<std::string>> Git::RemoveWorktree(const RootPaths& paths, std::string_view task_id,
                                                     bool delete_branch, const std::string& base) {
  PL_ASSIGN_OR_RETURN(std::string path, TaskWorktreePath(paths, task_id));
  PL_ASSIGN_OR_RETURN(std::string verify_dir, VerifyCheckoutPath(paths, task_id));
  PL_ASSIGN_OR_RETURN(std::string branch, TaskBranch(task_id));
  std::vector<std::string> archived;
  auto keep = [&](const std::string& commit) -> Status {
    PL_ASSIGN_OR_RETURN(auto ref, ArchiveUnlessHeld(task_id, commit, base));
    if (ref) archived.push_back(*ref);
    return Status::Ok();
  };
  // The worktree's HEAD may be detached or on a branch of the agent's own,
  // with commits nothing else reaches once the worktree's reflog is gone.
  PL_ASSIGN_OR_RETURN(auto found, FindWorktree(path));
  if (found && IsDirectory(path) && !found->head.empty()) PL_RETURN_IF_ERROR(keep(found->head));
  PL_RETURN_IF_ERROR(RemoveCheckout(path));
  PL_RETURN_IF_ERROR(RemoveCheckout(verify_dir));
  if (delete_branch) {
    auto sha = RevParse("refs/heads/" + branch);
    if (sha.ok()) {
      PL_RETURN_IF_ERROR(keep(*sha));
      PL_RETURN_IF_ERROR(RunOk(repo_dir_, {"branch", "--quiet", "-D", branch}).status());
    } else if (sha.kind() != ErrorKind::kNotFound) {
      return sha.error();
    }
  }
  return archived;
}

Result<std::vector<std::string>> Git::ListTaskWorktrees(const RootPaths& paths) {
  const std::string dir = Canonical(paths.worktrees_dir());
  std::set<std::string> ids;
  PL_ASSIGN_OR_RETURN(auto entries, ListWorktrees());
  for (const auto& e : entries) {
    std::filesystem::path p(Canonical(e.path));
    std::string name = p.filename().string();
    if (p.parent_path().string() == dir && ValidateTaskIdForPath(name).ok()) ids.insert(name);
  }
  std::error_code ec;
  for (const auto& d : std::filesystem::directory_iterator(paths.worktrees_dir(), ec)) {
    std::string name = d.path().filename().string();
    if (d.is_directory(ec) && ValidateTaskIdForPath(name).ok()) ids.insert(name);
  }
  return std::vector<std::string>(ids.begin(), ids.end());
}

Result<std::string> Git::ExportTree(const std::string& commit, const std::string& dir) {
  PL_ASSIGN_OR_RETURN(std::string sha, CommitId(commit));
  std::unique_lock<std::mutex> making(*worktree_mu_, std::defer_lock);
  std::optional<WorktreeEntry> found;
  if (IsDirectory(repo_dir_ + "/.git") && IsLinkedWorktreeOf(dir, repo_dir_ + "/.git")) {
    found = WorktreeEntry{};
  } else {
    making.lock();
    PL_ASSIGN_OR_RETURN(found, FindWorktree(dir));
  }
  if (found && IsDirectory(dir)) {
    // Reuse: far cheaper than a fresh worktree on a large repository.
    PL_RETURN_IF_ERROR(RunOk(dir, {"checkout", "--quiet", "--detach", "-f", sha}).status());
    PL_RETURN_IF_ERROR(RunOk(dir, {"clean", "-q", "-fdx"}).status());
    return sha;
  }
  if (found) PL_RETURN_IF_ERROR(Prune());
  if (PathExists(dir)) return Refused("cannot export into " + dir + ": it exists and is not a worktree");
  PL_RETURN_IF_ERROR(RunOk(repo_dir_, {"worktree", "add", "--quiet", "--detach", dir, sha}).status());
  return sha;
}

}  // namespace pipeline
