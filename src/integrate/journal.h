// The merge queue's crash journal. Moving a checked-out base branch takes two
// steps: the ref moves (one atomic compare-and-swap), then the person's
// checkout is carried forward. A kill -9 between them leaves HEAD at the new
// commit while the index and files still hold the old one, so the checkout
// would look as if someone had reverted the task. The journal, written
// atomically before the ref moves and removed after the files follow, names
// both commits; every integrate-task run first repairs what it finds
// (Git::FastForwardCheckout: `git read-tree -m -u OLD NEW`), under the
// base's lock.
#pragma once

#include <optional>
#include <string>

#include "git/git.h"
#include "util/status.h"

namespace pipeline {

struct IntegrateJournal {
  std::string task_id;
  std::string base;      // short branch name
  std::string old_sha;   // the base before
  std::string new_sha;   // the commit the base moves to
  std::string worktree;  // the checkout of base that must follow
};

Status WriteJournal(const std::string& path, const IntegrateJournal& j);
// nullopt when there is no journal. A journal that cannot be parsed (it is
// written atomically, so only a person could have made it so) is kIO.
Result<std::optional<IntegrateJournal>> ReadJournal(const std::string& path);
Status RemoveJournal(const std::string& path);

// Finishes an interrupted advance recorded in the journal at path, then
// removes the journal. Returns a reason to wait (the journal kept) when the
// checkout has local changes in the way of the files that must move; an
// empty string when all is in order.
Result<std::string> RepairInterruptedAdvance(Git& git, const std::string& path);

}  // namespace pipeline
