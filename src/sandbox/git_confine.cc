#include "sandbox/git_confine.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <vector>

#include "proc/process.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline {
namespace fs = std::filesystem;
namespace {

std::optional<std::string> Git(const std::string& cwd, std::vector<std::string> args) {
  Command c;
  c.argv = {"git", "-C", cwd};
  c.argv.insert(c.argv.end(), args.begin(), args.end());
  c.timeout_ms = 30000;
  auto r = RealProcessRunner().Run(c);
  if (!r.ok() || !r->ok()) return std::nullopt;
  return Trim(r->out);
}

bool SafeRefName(const std::string& ref) {
  if (ref.rfind("refs/heads/", 0) != 0 || ref.find("..") != std::string::npos) return false;
  for (char c : ref)
    if (static_cast<unsigned char>(c) < 0x20 || c == '\\') return false;
  return true;
}

// Writes `text` to `path` in place: an existing file keeps its inode
// (making one costs ~0.6 ms of kernel time on a full ext4).
bool WriteInPlace(const fs::path& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

// Makes the loose refs under `to` those under `from`: what differs is
// rewritten in place, what is missing made, what `from` does not have
// removed. Other processes create and delete branches meanwhile (the
// scheduler removes finished tasks' branches): a ref that vanishes between
// listing and copying is simply not copied.
Status SyncRefs(const std::string& from, const std::string& to) {
  PL_RETURN_IF_ERROR(MakeDirs(to));
  std::set<std::string> in_from;
  std::error_code ec;
  fs::recursive_directory_iterator it(from, fs::directory_options::skip_permission_denied, ec), end;
  if (ec && ec != std::errc::no_such_file_or_directory)
    return IOError("cannot list " + from + ": " + ec.message());
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code e;
    fs::path rel = it->path().lexically_relative(from);
    fs::path dst = fs::path(to) / rel;
    in_from.insert(rel.string());
    if (it->is_directory(e)) {
      if (!fs::is_directory(dst, e)) {
        fs::remove_all(dst, e);
        fs::create_directories(dst, e);
      }
      continue;
    }
    if (e) continue;
    auto text = ReadFile(it->path().string());
    if (!text.ok()) continue;
    auto have = ReadFile(dst.string());
    if (have.ok() && *have == *text) continue;
    if (fs::is_directory(dst, e)) fs::remove_all(dst, e);
    fs::create_directories(dst.parent_path(), e);
    if (!WriteInPlace(dst, *text)) return IOError("cannot write " + dst.string() + ": " + strerror(errno));
  }
  // An iterator stopped by a directory that vanished: what was copied is still a consistent view.
  std::vector<fs::path> gone;
  std::error_code te;
  for (fs::recursive_directory_iterator t(to, te), tend; !te && t != tend; t.increment(te))
    if (!in_from.count(t->path().lexically_relative(to).string())) {
      gone.push_back(t->path());
      t.disable_recursion_pending();
    }
  for (const auto& p : gone) fs::remove_all(p, te);
  return Status::Ok();
}

bool IsObjectId(const std::string& s) {
  if (s.size() != 40 && s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// A branch's value read from the files git keeps it in (the loose ref, else
// its line in packed-refs), without starting git: a run's start is measured
// in milliseconds and a git process costs several. nullopt: not there as a
// plain object id (unborn, or something only git should judge).
std::optional<std::string> ReadBranchFiles(const std::string& common_dir, const std::string& ref) {
  if (auto loose = ReadFile(JoinPath(common_dir, ref)); loose.ok()) {
    std::string v = Trim(*loose);
    return IsObjectId(v) ? std::optional<std::string>(v) : std::nullopt;
  }
  auto packed = ReadFile(JoinPath(common_dir, "packed-refs"));
  if (!packed.ok()) return std::nullopt;
  for (const auto& line : Split(*packed, '\n')) {
    size_t sp = line.find(' ');
    if (sp == std::string::npos || line[0] == '#' || line[0] == '^') continue;
    if (Trim(line.substr(sp + 1)) == ref && IsObjectId(line.substr(0, sp))) return line.substr(0, sp);
  }
  return std::nullopt;
}

}  // namespace

Result<std::optional<GitConfinement>> ReadGitConfinement(const std::string& workspace,
                                                        const std::string& private_dir) {
  std::string dotgit = JoinPath(workspace, ".git");
  if (!PathExists(dotgit)) return std::optional<GitConfinement>();
  GitConfinement g;
  std::error_code ec;
  if (IsDirectory(dotgit)) {
    g.common_dir = dotgit;  // the workspace is the main checkout: its own HEAD lives in .git itself
  } else {
    auto text = ReadFile(dotgit);
    if (!text.ok()) return text.error();
    std::string line = Trim(*text);
    if (line.rfind("gitdir:", 0) != 0) return InvalidArgument(dotgit + " is not a gitdir link");
    std::string gitdir = Trim(line.substr(7));
    if (gitdir.empty() || gitdir[0] != '/') gitdir = JoinPath(workspace, gitdir);
    g.worktree_gitdir = fs::weakly_canonical(gitdir, ec).string();
    auto common = ReadFile(JoinPath(g.worktree_gitdir, "commondir"));
    if (!common.ok()) return common.error();
    std::string c = Trim(*common);
    g.common_dir = fs::weakly_canonical(c[0] == '/' ? fs::path(c) : fs::path(g.worktree_gitdir) / c, ec).string();
  }
  std::string head_dir = g.worktree_gitdir.empty() ? g.common_dir : g.worktree_gitdir;
  auto head = ReadFile(JoinPath(head_dir, "HEAD"));
  if (!head.ok()) return head.error();
  g.head_file_text = *head;
  std::string h = Trim(*head);
  if (h.rfind("ref:", 0) == 0 && SafeRefName(Trim(h.substr(4)))) {
    g.branch_ref = Trim(h.substr(4));
    g.branch_before = ReadBranchFiles(g.common_dir, g.branch_ref);
    // A loose ref that is not a plain id (a symbolic ref) or a layout we do
    // not read (reftable): git decides, as before.
    if (!g.branch_before && (PathExists(JoinPath(g.common_dir, g.branch_ref)) || !PathExists(JoinPath(g.common_dir, "refs/heads"))))
      g.branch_before = Git(workspace, {"rev-parse", "--verify", "-q", g.branch_ref + "^{commit}"});
  }
  g.private_heads = JoinPath(private_dir, "git-heads");
  // There before the sandbox mounts it; FillPrivateHeads makes its content
  // the real refs (a spare private directory's comes with an older copy).
  PL_RETURN_IF_ERROR(MakeDirs(g.private_heads));
  // Mount points must exist before the sandbox starts (.git is read-only in it).
  PL_RETURN_IF_ERROR(MakeDirs(JoinPath(g.common_dir, "logs")));
  return std::optional<GitConfinement>(std::move(g));
}

Status CopyBranchRefs(const std::string& common_dir, const std::string& heads_dir) {
  return SyncRefs(JoinPath(common_dir, "refs/heads"), heads_dir);
}

Status FillPrivateHeads(const GitConfinement& g) {
  PL_RETURN_IF_ERROR(CopyBranchRefs(g.common_dir, g.private_heads));
  // The run's own branch is in the copy whatever happened to the others.
  if (!g.branch_ref.empty() && g.branch_before) {
    std::string own = JoinPath(g.private_heads, g.branch_ref.substr(std::string("refs/heads/").size()));
    if (!PathExists(own)) {
      PL_RETURN_IF_ERROR(MakeDirs(own.substr(0, own.find_last_of('/'))));
      PL_RETURN_IF_ERROR(WriteFileAtomic(own, *g.branch_before + "\n", FileSync::kNoFsync));
    }
  }
  return Status::Ok();
}

Result<std::optional<GitConfinement>> PrepareGitConfinement(const std::string& workspace,
                                                           const std::string& private_dir) {
  PL_ASSIGN_OR_RETURN(auto g, ReadGitConfinement(workspace, private_dir));
  if (g) PL_RETURN_IF_ERROR(FillPrivateHeads(*g));
  return g;
}

std::optional<std::string> HeadCommitBefore(const GitConfinement& g) {
  if (!g.branch_ref.empty()) return g.branch_before;
  std::string h = Trim(g.head_file_text);
  return IsObjectId(h) ? std::optional<std::string>(h) : std::nullopt;
}

Status CarryBackTaskBranch(const GitConfinement& g, const std::string& workspace) {
  std::string head_dir = g.worktree_gitdir.empty() ? g.common_dir : g.worktree_gitdir;
  auto head_now = ReadFile(JoinPath(head_dir, "HEAD"));
  if (!g.head_file_text.empty() && (!head_now.ok() || *head_now != g.head_file_text)) {
    // The run moved HEAD: to a branch of its own (which lives only in the
    // run's private refs) or to a detached commit. Its work must not vanish
    // with the private refs: HEAD is left detached at that commit, where the
    // harvest takes it onto the task branch or keeps it with the reason.
    std::string commit;
    if (head_now.ok()) {
      std::string h = Trim(*head_now);
      const std::string prefix = "ref: refs/heads/";
      if (StartsWith(h, prefix)) {
        std::string name = h.substr(prefix.size());
        if (SafeRefName("refs/heads/" + name) && "refs/heads/" + name != g.branch_ref) {
          auto t = ReadFile(JoinPath(g.private_heads, name));
          if (t.ok()) commit = Trim(*t);
        }
      } else {
        commit = h;
      }
    }
    if (!commit.empty() && Git(workspace, {"rev-parse", "--verify", "-q", commit + "^{commit}"})) {
      PL_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(head_dir, "HEAD"), commit + "\n", FileSync::kNoFsync));
    } else {
      PL_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(head_dir, "HEAD"), g.head_file_text, FileSync::kNoFsync));
    }
  }
  if (g.branch_ref.empty()) return Status::Ok();
  auto text = ReadFile(JoinPath(g.private_heads, g.branch_ref.substr(std::string("refs/heads/").size())));
  if (!text.ok()) return Status::Ok();  // never written loose in the run: unchanged
  std::string after = Trim(*text);
  if (after.empty() || (g.branch_before && after == *g.branch_before)) return Status::Ok();
  // Only a commit, and only over the value the run started from.
  if (!Git(workspace, {"rev-parse", "--verify", "-q", after + "^{commit}"}))
    return InvalidArgument("the run left " + g.branch_ref + " at " + after + ", which is not a commit");
  Command c;
  c.argv = {"git", "-C", workspace, "update-ref", "-m", "pipeline: run commits", g.branch_ref, after,
            g.branch_before.value_or(std::string())};
  c.timeout_ms = 30000;
  auto r = RealProcessRunner().Run(c);
  if (!r.ok()) return r.error();
  if (!r->ok()) return Conflict("cannot move " + g.branch_ref + ": " + SingleLine(Trim(r->err)));
  return Status::Ok();
}

}  // namespace pipeline
