// The one authority for names derived from task ids (after leveldb's
// db/filename.h): the task's branch and the task's worktree directory are
// built, and parsed back, only here. Task ids come from users and agents, so
// every id that reaches a ref name or a path is validated first.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/root.h"
#include "util/status.h"

namespace pipeline {

// Every task branch lives under this prefix, so pipeline's refs never collide
// with a person's branches and can be listed with one pattern.
inline constexpr std::string_view kTaskBranchPrefix = "pipeline/";
inline constexpr size_t kMaxTaskIdLength = 64;

// Accepts ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ without "..", without a trailing
// ".lock" and not ending in '.'. Such an id is one path component that cannot
// climb out of a directory, and one valid git ref component (so the branch
// passes `git check-ref-format --branch` by construction). kInvalidArgument
// with a one-line message otherwise.
Status ValidateTaskIdForPath(std::string_view id);

// "pipeline/<id>" (a short branch name; the ref is refs/heads/pipeline/<id>).
Result<std::string> TaskBranch(std::string_view task_id);

// The inverse of TaskBranch: the task id in "pipeline/<id>" or
// "refs/heads/pipeline/<id>", or nullopt if the name is not a valid task branch.
std::optional<std::string> TaskIdFromBranch(std::string_view branch);

// "<root>/worktrees/<id>"; the result is checked to sit directly inside the
// worktrees directory.
Result<std::string> TaskWorktreePath(const RootPaths& paths, std::string_view task_id);

// "<root>/worktrees/_verify-<id>": the detached checkout where the task's
// commit is verified, apart from the agent's workspace so that build outputs
// never appear there. The '_' keeps it out of ListTaskWorktrees (no task id
// starts with one).
Result<std::string> VerifyCheckoutPath(const RootPaths& paths, std::string_view task_id);

// Commits the base does not hold are never deleted by pipeline: before a
// task's branch or worktree goes, its tip is kept under
// "refs/pipeline/archive/<id>/<n>" (n = 1, 2, ...), outside refs/heads so
// that no branch list fills up, until a person runs `pipeline gc`.
inline constexpr std::string_view kArchiveRefPrefix = "refs/pipeline/archive/";

// "refs/pipeline/archive/<id>/<n>"; n must be at least 1.
Result<std::string> ArchiveRef(std::string_view task_id, int n);
// "refs/pipeline/archive/<id>/": every archive ref of the task starts so.
Result<std::string> TaskArchivePrefix(std::string_view task_id);

struct ArchiveRefName {
  std::string task_id;
  int n = 0;
};
// The inverse of ArchiveRef; nullopt for any other name.
std::optional<ArchiveRefName> ParseArchiveRef(std::string_view ref);

}  // namespace pipeline
