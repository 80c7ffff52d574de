#include "integrate/journal.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "util/files.h"
#include "util/log.h"

namespace pipeline {

Status WriteJournal(const std::string& path, const IntegrateJournal& j) {
  nlohmann::json doc = {{"task", j.task_id},   {"base", j.base},         {"old", j.old_sha},
                        {"new", j.new_sha},    {"worktree", j.worktree}};
  return WriteFileAtomic(path, doc.dump() + "\n");
}

Result<std::optional<IntegrateJournal>> ReadJournal(const std::string& path) {
  if (!PathExists(path)) return std::optional<IntegrateJournal>();
  PL_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  try {
    auto doc = nlohmann::json::parse(text);
    IntegrateJournal j;
    j.task_id = doc.at("task").get<std::string>();
    j.base = doc.at("base").get<std::string>();
    j.old_sha = doc.at("old").get<std::string>();
    j.new_sha = doc.at("new").get<std::string>();
    j.worktree = doc.at("worktree").get<std::string>();
    return std::optional<IntegrateJournal>(std::move(j));
  } catch (const nlohmann::json::exception& e) {
    return IOError("the integration journal " + path + " is unreadable (" + e.what() +
                   "); check the base branch's checkout by hand, then delete the file");
  }
}

Status RemoveJournal(const std::string& path) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return IOError("cannot remove " + path + ": " + strerror(errno));
  }
  return Status::Ok();
}

Result<std::string> RepairInterruptedAdvance(Git& git, const std::string& path) {
  PL_ASSIGN_OR_RETURN(auto journal, ReadJournal(path));
  if (!journal) return std::string();
  const IntegrateJournal& j = *journal;
  auto now = git.RevParse("refs/heads/" + j.base);
  if (!now.ok() && now.kind() != ErrorKind::kNotFound) return now.error();
  // The ref never moved (killed before the swap): the files never did either.
  // Or the branch is gone, or moved on past us: nothing of ours to finish.
  if (!now.ok() || *now != j.new_sha || j.worktree.empty()) {
    if (now.ok() && *now != j.old_sha && *now != j.new_sha) {
      LogWarning("integration journal for {}: {} is now at {}, neither {} nor {}; leaving its checkout alone",
                 j.task_id, j.base, *now, j.old_sha, j.new_sha);
    }
    PL_RETURN_IF_ERROR(RemoveJournal(path));
    return std::string();
  }
  PL_ASSIGN_OR_RETURN(auto checked_out, git.WorktreeWithBranchCheckedOut(j.base));
  if (!checked_out || *checked_out != j.worktree) {
    PL_RETURN_IF_ERROR(RemoveJournal(path));  // that checkout is gone or on another branch
    return std::string();
  }
  Status st = git.FastForwardCheckout(j.worktree, j.old_sha, j.new_sha);
  if (!st.ok()) {
    if (st.kind() == ErrorKind::kTimeout || st.kind() == ErrorKind::kUnavailable) return st.error();
    return "base branch " + j.base + " moved to " + j.new_sha + " but its checkout at " + j.worktree +
           " could not follow (" + st.message() + "); commit or stash the local changes there";
  }
  Log("repaired the checkout of {} at {}: files brought forward to {}", j.base, j.worktree, j.new_sha);
  PL_RETURN_IF_ERROR(RemoveJournal(path));
  return std::string();
}

}  // namespace pipeline
