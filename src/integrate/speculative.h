// The speculative heads of a batch: the queued changes merged one after
// another onto the base tip, in memory (git merge-tree + commit-tree; no
// checkout, no ref moved). Head i holds the base and changes 1..i of those
// that merged; a change that conflicts with the ones before it is left out
// (it is redone by its task as today) without holding back the others.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "git/git.h"
#include "util/status.h"

namespace pipeline {

struct QueuedChange {
  std::string task_id;
  std::string title;
  std::string commit;  // the task branch's head (its verified patchset)
  // The tree of this change merged alone onto the batch's base, when the
  // caller computed it already (a head of this change alone then costs one
  // commit, not a merge); empty: unknown.
  std::string alone_tree;
};

struct SpeculativeHead {
  std::string task_id;
  std::string head;  // the commit holding the base and every merged change up to this one
};

struct SpeculativeBatch {
  std::string base;                    // the base tip the heads are built on
  std::vector<SpeculativeHead> heads;  // in queue order, conflicting changes left out
  struct Conflicted {
    std::string task_id, why;
  };
  std::vector<Conflicted> conflicted;
  // The head of prefix i (i changes merged; 0: the base itself).
  const std::string& Prefix(int i) const { return i == 0 ? base : heads[i - 1].head; }
};

// mode: "merge" (a two-parent commit per change) or "squash" (one commit
// per change on the one before). message_for gives each change's message.
Result<SpeculativeBatch> BuildSpeculativeBatch(Git& git, const std::string& base_commit,
                                               const std::vector<QueuedChange>& changes, const std::string& mode,
                                               const std::function<std::string(const QueuedChange&)>& message_for);

}  // namespace pipeline
