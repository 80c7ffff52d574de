#include "git/paths.h"

#include <filesystem>

#include "util/text.h"

namespace pipeline {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

Error BadId(std::string_view id, std::string_view why) {
  return InvalidArgument("invalid task id " + Quoted(TruncateUtf8(id, 80)) + ": " + std::string(why));
}

}  // namespace

Status ValidateTaskIdForPath(std::string_view id) {
  if (id.empty()) return BadId(id, "it is empty");
  if (id.size() > kMaxTaskIdLength) {
    return BadId(id, "longer than " + std::to_string(kMaxTaskIdLength) + " characters");
  }
  if (!IsAlnum(id.front())) return BadId(id, "it must start with a letter or digit");
  for (char c : id) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != '-') {
      return BadId(id, "only letters, digits, '.', '_' and '-' are allowed");
    }
  }
  // ".." would be a parent directory in a path and is forbidden in git refs.
  if (id.find("..") != std::string_view::npos) return BadId(id, "it must not contain \"..\"");
  // git refuses ref components ending in ".lock" or '.'.
  if (id.size() >= 5 && id.substr(id.size() - 5) == ".lock") {
    return BadId(id, "it must not end in \".lock\"");
  }
  if (id.back() == '.') return BadId(id, "it must not end in '.'");
  return Status::Ok();
}

Result<std::string> TaskBranch(std::string_view task_id) {
  PL_RETURN_IF_ERROR(ValidateTaskIdForPath(task_id));
  return std::string(kTaskBranchPrefix) + std::string(task_id);
}

std::optional<std::string> TaskIdFromBranch(std::string_view branch) {
  constexpr std::string_view kHeads = "refs/heads/";
  if (StartsWith(branch, kHeads)) branch.remove_prefix(kHeads.size());
  if (!StartsWith(branch, kTaskBranchPrefix)) return std::nullopt;
  branch.remove_prefix(kTaskBranchPrefix.size());
  if (!ValidateTaskIdForPath(branch).ok()) return std::nullopt;
  return std::string(branch);
}

Result<std::string> TaskWorktreePath(const RootPaths& paths, std::string_view task_id) {
  PL_RETURN_IF_ERROR(ValidateTaskIdForPath(task_id));
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(paths.worktrees_dir()).lexically_normal();
  const fs::path path = (dir / std::string(task_id)).lexically_normal();
  // Holds by construction of a valid id; checked because a path that escaped
  // the worktrees directory would be removed with --force later.
  if (path.parent_path() != dir || path.filename() != std::string(task_id)) {
    return InvalidArgument("task id " + Quoted(task_id) + " does not name a directory inside " +
                           paths.worktrees_dir());
  }
  return path.string();
}

Result<std::string> VerifyCheckoutPath(const RootPaths& paths, std::string_view task_id) {
  PL_ASSIGN_OR_RETURN(std::string task_dir, TaskWorktreePath(paths, task_id));
  namespace fs = std::filesystem;
  return (fs::path(task_dir).parent_path() / ("_verify-" + std::string(task_id))).string();
}

Result<std::string> TaskArchivePrefix(std::string_view task_id) {
  PL_RETURN_IF_ERROR(ValidateTaskIdForPath(task_id));
  return std::string(kArchiveRefPrefix) + std::string(task_id) + "/";
}

Result<std::string> ArchiveRef(std::string_view task_id, int n) {
  if (n < 1) return InvalidArgument("archive numbers start at 1, not " + std::to_string(n));
  PL_ASSIGN_OR_RETURN(std::string prefix, TaskArchivePrefix(task_id));
  return prefix + std::to_string(n);
}

std::optional<ArchiveRefName> ParseArchiveRef(std::string_view ref) {
  if (!StartsWith(ref, kArchiveRefPrefix)) return std::nullopt;
  ref.remove_prefix(kArchiveRefPrefix.size());
  size_t slash = ref.rfind('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view id = ref.substr(0, slash), num = ref.substr(slash + 1);
  if (!ValidateTaskIdForPath(id).ok() || num.empty() || num.size() > 9 || num.front() == '0') return std::nullopt;
  for (char c : num)
    if (c < '0' || c > '9') return std::nullopt;
  return ArchiveRefName{std::string(id), std::stoi(std::string(num))};
}

}  // namespace pipeline
