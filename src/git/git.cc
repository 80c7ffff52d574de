// Running git, and the read-only queries.
#include "git/git.h"

#include <utility>

#include "util/text.h"

namespace pipeline {
namespace {

// Variables that would point git at another repository or index than the
// directory we name with -C (set, for instance, when we run inside a hook).
const std::vector<std::string> kRepoEnv = {
    "GIT_DIR",       "GIT_WORK_TREE",  "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY",
    "GIT_NAMESPACE", "GIT_PREFIX",     "GIT_CEILING_DIRECTORIES"};

std::string FirstLine(const std::string& s) {
  std::string t = Trim(s);
  size_t nl = t.find('\n');
  return nl == std::string::npos ? t : t.substr(0, nl);
}

std::string Chomp(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

Git::Git(ProcessRunner& runner, std::string repo_dir) : runner_(runner), repo_dir_(std::move(repo_dir)) {}

Result<CommandResult> Git::Run(const std::string& dir, const std::vector<std::string>& args,
                               const std::string& stdin_data,
                               const std::map<std::string, std::string>& env) {
  Command cmd;
  cmd.argv = {"git", "-C", dir};
  cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
  cmd.env_set = env;
  cmd.env_set["LC_ALL"] = "C";
  cmd.env_set["GIT_TERMINAL_PROMPT"] = "0";
  cmd.env_unset = kRepoEnv;
  cmd.stdin_data = stdin_data;
  cmd.timeout_ms = kTimeoutMs;
  auto r = runner_.Run(cmd);
  if (!r.ok()) return Unavailable("cannot run git: " + r.message());
  if (r->timed_out) {
    return TimedOut("git " + (args.empty() ? std::string() : args[0]) + " in " + dir + " timed out after " +
                    std::to_string(kTimeoutMs / 1000) + " s");
  }
  return r;
}

Result<std::string> Git::RunOk(const std::string& dir, const std::vector<std::string>& args,
                               const std::string& stdin_data,
                               const std::map<std::string, std::string>& env) {
  PL_ASSIGN_OR_RETURN(CommandResult r, Run(dir, args, stdin_data, env));
  if (!r.exit.success()) {
    std::string why = FirstLine(r.err);
    if (why.empty()) why = "exit code " + std::to_string(r.exit.exit_code);
    return IOError("git " + (args.empty() ? std::string() : args[0]) + " failed in " + dir + ": " + why);
  }
  return Chomp(std::move(r.out));
}

Result<std::string> Git::RevParse(const std::string& rev) {
  PL_ASSIGN_OR_RETURN(CommandResult r,
                      Run(repo_dir_, {"rev-parse", "--verify", "--quiet", "--end-of-options", rev}));
  if (r.exit.success()) return Chomp(std::move(r.out));
  if (r.exit.exit_code == 1) return NotFound("git revision " + Quoted(rev) + " not found");
  return IOError("git rev-parse failed in " + repo_dir_ + ": " + FirstLine(r.err));
}

Result<std::string> Git::Head(const std::string& worktree) {
  return RunOk(worktree, {"rev-parse", "--verify", "HEAD"});
}

Result<std::string> Git::CurrentBranch() {
  PL_ASSIGN_OR_RETURN(CommandResult r, Run(repo_dir_, {"symbolic-ref", "--quiet", "--short", "HEAD"}));
  if (r.exit.success()) return Chomp(std::move(r.out));
  if (r.exit.exit_code == 1) return NotFound("HEAD is detached in " + repo_dir_ + "; name a base branch");
  return IOError("git symbolic-ref failed in " + repo_dir_ + ": " + FirstLine(r.err));
}

Result<int> Git::CommitsAhead(const std::string& branch, const std::string& base) {
  PL_ASSIGN_OR_RETURN(std::string out,
                      RunOk(repo_dir_, {"rev-list", "--count", "--end-of-options", base + ".." + branch}));
  auto n = ParseInt64(Trim(out));
  if (!n) return IOError("git rev-list printed " + Quoted(out) + ", not a count");
  return static_cast<int>(*n);
}

Result<std::vector<WorktreeEntry>> Git::ListWorktrees() {
  // -z: records of NUL-terminated attribute lines, a record ends with an
  // empty one; paths may hold any byte but NUL.
  PL_ASSIGN_OR_RETURN(CommandResult r, Run(repo_dir_, {"worktree", "list", "--porcelain", "-z"}));
  if (!r.exit.success()) return IOError("git worktree list failed in " + repo_dir_ + ": " + FirstLine(r.err));
  std::vector<WorktreeEntry> out;
  std::optional<WorktreeEntry> cur;
  size_t pos = 0;
  while (pos < r.out.size()) {
    size_t end = r.out.find('\0', pos);
    if (end == std::string::npos) end = r.out.size();
    std::string_view line(r.out.data() + pos, end - pos);
    pos = end + 1;
    if (line.empty()) {
      if (cur) out.push_back(std::move(*cur));
      cur.reset();
      continue;
    }
    size_t sp = line.find(' ');
    std::string_view key = line.substr(0, sp);
    std::string_view val = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    if (key == "worktree") {
      if (cur) out.push_back(std::move(*cur));
      cur = WorktreeEntry{};
      cur->path = std::string(val);
    } else if (!cur) {
      continue;
    } else if (key == "HEAD") {
      cur->head = std::string(val);
    } else if (key == "branch") {
      cur->branch = std::string(val);
    } else if (key == "bare") {
      cur->bare = true;
    } else if (key == "prunable") {
      cur->prunable = true;
    }
  }
  if (cur) out.push_back(std::move(*cur));
  return out;
}

Result<std::optional<std::string>> Git::WorktreeWithBranchCheckedOut(const std::string& branch) {
  const std::string ref = StartsWith(branch, "refs/") ? branch : "refs/heads/" + branch;
  PL_ASSIGN_OR_RETURN(auto entries, ListWorktrees());
  for (const auto& e : entries) {
    if (e.branch == ref && !e.prunable) return std::optional<std::string>(e.path);
  }
  return std::optional<std::string>();
}

Result<bool> Git::IsClean(const std::string& worktree) {
  PL_ASSIGN_OR_RETURN(std::string out, RunOk(worktree, {"status", "--porcelain", "--untracked-files=no"}));
  return out.empty();
}

}  // namespace pipeline
