#include "integrate/speculative.h"

namespace pipeline {

Result<SpeculativeBatch> BuildSpeculativeBatch(Git& git, const std::string& base_commit,
                                               const std::vector<QueuedChange>& changes, const std::string& mode,
                                               const std::function<std::string(const QueuedChange&)>& message_for) {
  SpeculativeBatch batch;
  PL_ASSIGN_OR_RETURN(batch.base, git.RevParse(base_commit + "^{commit}"));
  std::string tip = batch.base;
  for (const QueuedChange& c : changes) {
    auto next = git.SquashOrMergeCommit(mode, tip, c.commit, message_for(c));
    if (!next.ok()) {
      // A conflict leaves this change out; anything else (git failing, a
      // vanished commit) ends the batch: it is not the change's fault.
      if (next.kind() != ErrorKind::kConflict) return next.error();
      batch.conflicted.push_back({c.task_id, next.message()});
      continue;
    }
    tip = *next;
    batch.heads.push_back({c.task_id, tip});
  }
  return batch;
}

}  // namespace pipeline
