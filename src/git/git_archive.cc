// Keeping commits the base does not hold: archive refs, and taking an agent's
// commits back onto its task branch when it put them somewhere else.
#include <algorithm>
#include <tuple>

#include "git/git.h"
#include "git/paths.h"
#include "util/text.h"

namespace pipeline {
namespace {

std::string FirstLineOf(const std::string& s) {
  std::string t = Trim(s);
  size_t nl = t.find('\n');
  return nl == std::string::npos ? t : t.substr(0, nl);
}

}  // namespace

Result<bool> Git::IsAncestor(const std::string& a, const std::string& b) {
  PL_ASSIGN_OR_RETURN(CommandResult r, Run(repo_dir_, {"merge-base", "--is-ancestor", a, b}));
  if (r.exit.success()) return true;
  if (r.exit.exit_code == 1) return false;
  return IOError("git merge-base --is-ancestor failed in " + repo_dir_ + ": " + FirstLineOf(r.err));
}

Result<bool> Git::BaseHolds(const std::string& base, const std::string& commit) {
  PL_ASSIGN_OR_RETURN(std::string base_sha, RevParse(base + "^{commit}"));
  PL_ASSIGN_OR_RETURN(std::string sha, RevParse(commit + "^{commit}"));
  PL_ASSIGN_OR_RETURN(bool ancestor, IsAncestor(sha, base_sha));
  if (ancestor) return true;
  // A merge git refuses (unrelated histories) or that conflicts adds
  // something the base lacks: not held, so the caller keeps the commit.
  auto m = MergeTree(base_sha, sha);
  if (!m.ok() || !m->clean) return false;
  PL_ASSIGN_OR_RETURN(std::string base_tree, RevParse(base_sha + "^{tree}"));
  return m->tree == base_tree;
}

Result<std::vector<ArchiveEntry>> Git::ListArchive(std::string_view task_id) {
  std::string pattern = std::string(kArchiveRefPrefix);
  if (!task_id.empty()) {
    PL_ASSIGN_OR_RETURN(pattern, TaskArchivePrefix(task_id));
  }
  // %00 separates fields: a subject may hold any byte but NUL and newline.
  PL_ASSIGN_OR_RETURN(std::string out,
                      RunOk(repo_dir_, {"for-each-ref", "--format=%(refname)%00%(objectname)%00%(subject)", pattern}));
  std::vector<ArchiveEntry> entries;
  for (const auto& line : Split(out, '\n')) {
    if (line.empty()) continue;
    size_t a = line.find('\0');
    size_t b = a == std::string::npos ? a : line.find('\0', a + 1);
    if (b == std::string::npos) continue;
    auto name = ParseArchiveRef(line.substr(0, a));
    if (!name) continue;  // not one we made: leave it alone
    entries.push_back({line.substr(0, a), name->task_id, name->n, line.substr(a + 1, b - a - 1), line.substr(b + 1)});
  }
  std::sort(entries.begin(), entries.end(), [](const ArchiveEntry& x, const ArchiveEntry& y) {
    return std::tie(x.task_id, x.n) < std::tie(y.task_id, y.n);
  });
  return entries;
}

Result<std::optional<std::string>> Git::ArchiveUnlessHeld(std::string_view task_id, const std::string& commit,
                                                          const std::string& base) {
  using Out = std::optional<std::string>;
  PL_ASSIGN_OR_RETURN(std::string sha, RevParse(commit + "^{commit}"));
  std::string holder = base;
  if (holder.empty()) {
    auto current = CurrentBranch();
    if (current.ok()) holder = *current;
  }
  if (!holder.empty()) {
    auto held = BaseHolds("refs/heads/" + holder, sha);
    // A base that does not resolve holds nothing: keep the commit.
    if (!held.ok() && held.kind() != ErrorKind::kNotFound) return held.error();
    if (held.ok() && *held) return Out();
  }
  PL_ASSIGN_OR_RETURN(auto existing, ListArchive(task_id));
  int next = 1;
  for (const auto& e : existing) {
    if (e.sha == sha) return Out();  // kept already
    next = std::max(next, e.n + 1);
  }
  PL_ASSIGN_OR_RETURN(std::string ref, ArchiveRef(task_id, next));
  PL_RETURN_IF_ERROR(CompareAndSwapRef(ref, sha, ""));
  return Out(ref);
}

Status Git::DeleteRef(const std::string& ref, const std::string& old_sha) {
  if (!StartsWith(ref, "refs/")) return InvalidArgument("ref " + Quoted(ref) + " must start with refs/");
  PL_ASSIGN_OR_RETURN(CommandResult r, Run(repo_dir_, {"update-ref", "--no-deref", "-d", ref, old_sha}));
  if (r.exit.success()) return Status::Ok();
  auto now = RevParse(ref);
  if (!now.ok() && now.kind() == ErrorKind::kNotFound) return Status::Ok();  // gone already
  if (now.ok() && *now != old_sha) return Conflict(ref + " moved to " + *now + "; not deleted");
  return IOError("git update-ref -d " + ref + " failed: " + SingleLine(Trim(r.err)));
}

Result<std::string> Git::TakeHeadOntoTaskBranch(const std::string& worktree, std::string_view task_id,
                                                const std::string& base) {
  PL_ASSIGN_OR_RETURN(std::string branch, TaskBranch(task_id));
  const std::string ref = "refs/heads/" + branch;
  PL_ASSIGN_OR_RETURN(CommandResult sym, Run(worktree, {"symbolic-ref", "--quiet", "HEAD"}));
  const std::string on = sym.exit.success() ? Trim(sym.out) : std::string();
  if (on == ref) return std::string();
  const std::string where = on.empty() ? std::string("a detached HEAD")
                                       : "branch " + (StartsWith(on, "refs/heads/") ? on.substr(11) : on);
  PL_ASSIGN_OR_RETURN(std::string head, Head(worktree));
  PL_ASSIGN_OR_RETURN(std::string tip, RevParse(ref));
  PL_ASSIGN_OR_RETURN(bool descends, IsAncestor(tip, head));
  if (descends) {
    if (head != tip) PL_RETURN_IF_ERROR(CompareAndSwapRef(ref, head, tip));
    // Same commit as HEAD: switching moves no file and keeps local edits.
    PL_RETURN_IF_ERROR(RunOk(worktree, {"switch", "--quiet", branch}).status());
    return head == tip ? "the workspace was on " + where + " at the task branch's tip; back on " + branch
                       : "took the commits on " + where + " onto " + branch;
  }
  // Not a continuation of the task's work: keep it for a person, and give the
  // next run the task branch back if local changes allow.
  PL_ASSIGN_OR_RETURN(auto kept, ArchiveUnlessHeld(task_id, head, base));
  (void)RunOk(worktree, {"switch", "--quiet", branch});
  return Refused("commits on " + where + ", not on the task branch " + branch +
                 (kept ? " (kept as " + *kept + ")" : std::string()));
}

}  // namespace pipeline
