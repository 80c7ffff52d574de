// What the scheduler and `pipeline status` both need to know about the
// batched merge queue, read from the store in one place: which tasks an
// integrate run holds (its argv), and whether the base is red (the newest
// base event: base-red, base-green or base-recheck, with no task).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/run_record.h"
#include "store/db.h"
#include "util/clock.h"

namespace pipeline {

// The tasks of an integrate run in queue order: the ids after
// `integrate-batch` (up to the first flag), else the run's own task.
std::vector<std::string> IntegrateRunTasks(const RunRecord& run);

struct BaseState {
  bool red = false;          // the base's tip failed its check: nothing lands
  bool recheck_asked = false;  // `pipeline integrate --recheck-base` since
  std::string base, commit;  // red: the branch and the commit that failed
  std::string output;        // red: the check's output tail
  Micros since = 0;          // red: when it was seen failing
};

// The detail a base-red event is written with, and its reading back.
std::string BaseRedDetail(const std::string& base, const std::string& commit, const std::string& output);
struct BaseRedParts {
  std::string base, commit, output;  // a detail not in this form: all of it is the output
};
BaseRedParts ParseBaseRedDetail(const std::string& detail);
// Whether the verdict before the base event `event_id` was red too: the
// queue writes base-red at every red verdict (its time starts the next
// recheck period), but only a change from green is a transition.
Result<bool> BaseWasRedBefore(Db& db, int64_t event_id);
Result<BaseState> ReadBaseState(Db& db);

}  // namespace pipeline
