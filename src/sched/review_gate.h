// The review gate: a person's verdict on work the scheduler parked in
// `review`. Approving sends it on to the merge queue; rejecting sends it back
// to development as a new patchset carrying the reason, which the next dev
// run is given as feedback. Both are compare-and-set on status `review`, in
// one transaction with their comment, so two reviewers cannot both win.
#pragma once

#include <cstdint>
#include <string>

#include "store/db.h"
#include "tasks/task.h"
#include "tasks/task_transitions.h"
#include "util/clock.h"
#include "util/status.h"

namespace pipeline {

// review -> verified, with the comment "Approved by <author>". kRefused
// naming the task's status when it is not in review; kNotFound for an
// unknown id; kInvalidArgument for a malformed author.
Result<Task> ApproveTask(Db& db, Clock& clock, const std::string& id, const std::string& author = "human");

// review -> open, patchset + 1, feedback = why, retries = 0, not_before = 0,
// with the comment "Rejected by <author>: <why>"; at `max_patchsets`
// rejected patchsets it goes to needs-help instead (RejectPatchset, the same
// cap as the scheduler's rejections). why must be non-empty text. Refusals
// as for ApproveTask.
Result<Task> RejectTask(Db& db, Clock& clock, const std::string& id, const std::string& why,
                        const std::string& author = "human", int64_t max_patchsets = kDefaultMaxPatchsets);

}  // namespace pipeline
