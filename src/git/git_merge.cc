// Merge-queue primitives: merge, commit and move refs without a checkout, and
// carry a person's checkout forward when its branch advanced.
#include <cctype>
#include <cstdlib>

#include "git/git.h"
#include "util/text.h"

namespace pipeline {

bool IsHexCommitId(std::string_view s) {
  if (s.size() != 40 && s.size() != 64) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

namespace {

std::vector<std::string> SplitNul(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find('\0', pos);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

// `git merge-tree --write-tree -z --name-only --messages` output:
//   <tree> NUL <file> NUL ... NUL (empty: end of files)
//   then per message: <n> NUL <path>{n} NUL <type> NUL <text> NUL
Result<MergeResult> ParseMergeTree(const std::string& out, bool clean) {
  std::vector<std::string> tok = SplitNul(out);
  if (tok.empty() || !IsHexCommitId(tok[0])) {
    return IOError("git merge-tree printed no tree: " + Quoted(TruncateUtf8(out, 200)));
  }
  MergeResult m;
  m.clean = clean;
  m.tree = tok[0];
  size_t i = 1;
  for (; i < tok.size() && !tok[i].empty(); ++i) m.conflicted_files.push_back(tok[i]);
  ++i;  // the empty separator
  while (i < tok.size()) {
    auto n = ParseInt64(tok[i]);
    if (!n || *n < 0) break;  // an unknown format: keep what was parsed
    i += 1 + static_cast<size_t>(*n) + 1;  // count, paths, type
    if (i >= tok.size()) break;
    m.messages += tok[i];
    if (!m.messages.empty() && m.messages.back() != '\n') m.messages += '\n';
    ++i;
  }
  return m;
}

}  // namespace

Result<std::string> Git::CommitId(const std::string& rev) {
  if (IsHexCommitId(rev)) return rev;
  return RevParse(rev + "^{commit}");
}

Result<MergeResult> Git::MergeTree(const std::string& base_commit, const std::string& branch_commit) {
  PL_ASSIGN_OR_RETURN(std::string base, CommitId(base_commit));
  PL_ASSIGN_OR_RETURN(std::string branch, CommitId(branch_commit));
  PL_ASSIGN_OR_RETURN(CommandResult r, Run(repo_dir_, {"merge-tree", "--write-tree", "-z", "--name-only",
                                                      "--messages", base, branch}));
  // Exit 0: clean; 1: conflicts (the tree is still written); else a failure.
  if (r.exit.signaled() || (r.exit.exit_code != 0 && r.exit.exit_code != 1)) {
    return IOError("git merge-tree failed in " + repo_dir_ + ": " + SingleLine(Trim(r.err)));
  }
  return ParseMergeTree(r.out, r.exit.exit_code == 0);
}

Result<std::map<std::string, std::string>> Git::IdentityEnv() {
  std::lock_guard<std::mutex> lock(*identity_mu_);
  if (identity_env_) return *identity_env_;
  std::map<std::string, std::string> env;
  // Exit 1 means unset; the environment may still name someone, which git
  // then uses, so only fill in what neither provides.
  struct Field {
    const char* key;
    const char* author_var;
    const char* committer_var;
    const char* fallback;
  };
  static const Field kFields[] = {
      {"user.name", "GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME", "pipeline"},
      {"user.email", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL", "pipeline@localhost"},
  };
  for (const Field& f : kFields) {
    PL_ASSIGN_OR_RETURN(CommandResult r, Run(repo_dir_, {"config", "--get", f.key}));
    if (r.exit.success() && !Trim(r.out).empty()) continue;
    for (const char* var : {f.author_var, f.committer_var}) {
      const char* have = getenv(var);
      if (!have || !*have) env[var] = f.fallback;
    }
  }
  identity_env_ = env;
  return env;
}

Result<std::string> Git::CommitTree(const std::string& tree, const std::vector<std::string>& parents,
                                    const std::string& message) {
  if (!IsHexCommitId(tree)) return InvalidArgument("not a tree id: " + Quoted(tree));
  std::vector<std::string> args = {"commit-tree", "--no-gpg-sign"};
  for (const auto& p : parents) {
    if (!IsHexCommitId(p)) return InvalidArgument("not a commit id: " + Quoted(p));
    args.insert(args.end(), {"-p", p});
  }
  args.push_back(tree);
  PL_ASSIGN_OR_RETURN(auto env, IdentityEnv());
  // The message goes on stdin: it is data of any length and shape.
  std::string msg = message;
  if (!msg.empty() && msg.back() != '\n') msg += '\n';
  PL_ASSIGN_OR_RETURN(std::string sha, RunOk(repo_dir_, args, msg, env));
  if (!IsHexCommitId(sha)) return IOError("git commit-tree printed " + Quoted(sha) + ", not a commit id");
  return sha;
}

Result<std::string> Git::CommitOnto(std::string_view mode, const std::string& tree, const std::string& base_sha,
                                    const std::string& squash_message, const std::string& merge_message) {
  if (mode != "merge" && mode != "squash") {
    return InvalidArgument("unknown integration mode " + Quoted(mode) + " (expected squash or merge)");
  }
  PL_ASSIGN_OR_RETURN(std::string squashed, CommitTree(tree, {base_sha}, squash_message));
  if (mode == "squash") return squashed;
  return CommitTree(tree, {base_sha, squashed}, merge_message);
}

Result<std::string> Git::SquashOrMergeCommit(std::string_view mode, const std::string& base,
                                             const std::string& branch, const std::string& message) {
  if (mode != "merge" && mode != "squash") {
    return InvalidArgument("unknown integration mode " + Quoted(mode) + " (expected squash or merge)");
  }
  // The base's id is the new commit's parent; MergeTree resolves the branch.
  PL_ASSIGN_OR_RETURN(std::string base_sha, CommitId(base));
  PL_ASSIGN_OR_RETURN(MergeResult m, MergeTree(base_sha, branch));
  if (!m.clean) {
    std::string files;
    for (const auto& f : m.conflicted_files) files += (files.empty() ? "" : ", ") + f;
    return Conflict("merging " + branch + " into " + base + " conflicts in " +
                    (files.empty() ? std::string("(no file named)") : SingleLine(files)));
  }
  return CommitOnto(mode, m.tree, base_sha, message, message);
}

Status Git::CompareAndSwapRef(const std::string& ref, const std::string& new_sha, const std::string& old_sha) {
  // A short name would create a pseudo-ref file at the top of .git.
  if (!StartsWith(ref, "refs/")) return InvalidArgument("ref " + Quoted(ref) + " must start with refs/");
  if (!IsHexCommitId(new_sha)) return InvalidArgument("not a commit id: " + Quoted(new_sha));
  if (!old_sha.empty() && !IsHexCommitId(old_sha)) return InvalidArgument("not a commit id: " + Quoted(old_sha));
  const std::string old = old_sha.empty() ? std::string(new_sha.size(), '0') : old_sha;
  PL_ASSIGN_OR_RETURN(CommandResult r, Run(repo_dir_, {"update-ref", "--no-deref", ref, new_sha, old}));
  if (r.exit.success()) return Status::Ok();
  auto now = RevParse(ref);
  const std::string now_sha = now.ok() ? *now : "";
  if (now_sha != old_sha) {
    return Conflict(ref + " moved: expected " + (old_sha.empty() ? "no ref" : old_sha) + ", found " +
                    (now_sha.empty() ? "no ref" : now_sha));
  }
  return IOError("git update-ref " + ref + " failed: " + SingleLine(Trim(r.err)));
}

Status Git::FastForwardCheckout(const std::string& worktree, const std::string& old_sha,
                                const std::string& new_sha) {
  if (!IsHexCommitId(old_sha) || !IsHexCommitId(new_sha)) return InvalidArgument("fast-forward needs two commit ids");
  PL_ASSIGN_OR_RETURN(std::string head, Head(worktree));
  if (head == old_sha) {
    auto merged = RunOk(worktree, {"merge", "--quiet", "--ff-only", "--no-edit", new_sha});
    // git refused (local changes in touched files, not a fast-forward): the
    // person's checkout stays as it was, and that is for them to sort out.
    if (!merged.ok() && merged.kind() == ErrorKind::kIO) return Refused(merged.message());
    return merged.status();
  }
  if (head != new_sha) {
    return Conflict("the branch in " + worktree + " is at " + head + ", expected " + old_sha);
  }
  // HEAD already at new_sha. `diff-index --cached --quiet X` exits 0 when the
  // index equals X's tree, 1 when it differs.
  PL_ASSIGN_OR_RETURN(CommandResult at_new,
                      Run(worktree, {"diff-index", "--cached", "--quiet", new_sha, "--"}));
  if (at_new.exit.success()) return Status::Ok();  // done before
  PL_ASSIGN_OR_RETURN(CommandResult at_old,
                      Run(worktree, {"diff-index", "--cached", "--quiet", old_sha, "--"}));
  if (!at_old.exit.success()) {
    return Conflict("the index in " + worktree + " matches neither " + old_sha + " nor " + new_sha +
                    "; not touching it");
  }
  // The ref moved without the files (see git.h): carry them forward.
  return RunOk(worktree, {"read-tree", "-m", "-u", old_sha, new_sha}).status();
}

}  // namespace pipeline
