// What one `pipeline integrate-task` run ended with. The worker prints it as
// the last line of its stdout (one JSON object) and exits with ExitCode();
// the scheduler reads that line when it harvests the run.
//
//   {"outcome":"integrated","commit":"<sha>"}                    exit 0
//   {"outcome":"integrated","commit":"<sha>","already":true}     exit 0 (base had it)
//   {"outcome":"integrated","commit":"<sha>","warning":"..."}    exit 0 (checkout lags)
//   {"outcome":"conflict","files":["a.txt", ...]}                exit 1
//   {"outcome":"check-failed","output_tail":"...","timed_out":b} exit 1
//   {"outcome":"base-moved"}                                     exit 1
//   {"outcome":"empty","reason":"..."}                           exit 1 (the branch adds nothing)
//   {"outcome":"waiting","reason":"..."}                         exit 75
//   {"outcome":"error","message":"..."}                          exit 1 (2: usage)
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace pipeline {

// EX_TEMPFAIL: nothing was done; try again later.
inline constexpr int kExitWaiting = 75;

struct IntegrateOutcome {
  enum class Kind { kIntegrated, kConflict, kCheckFailed, kBaseMoved, kEmpty, kWaiting, kError };
  Kind kind = Kind::kError;
  std::string commit;                 // kIntegrated: the base's new head
  bool already = false;               // kIntegrated: base contained the task before this run
  std::string warning;                // kIntegrated: the base moved but its checkout could not follow
  std::vector<std::string> files;     // kConflict
  std::string output_tail;            // kCheckFailed: the last ~4 KB of the check's output
  bool timed_out = false;             // kCheckFailed
  std::string reason;                 // kEmpty, kWaiting, kError (the message)
  ErrorKind error_kind = ErrorKind::kIO;  // kError

  static IntegrateOutcome Integrated(std::string commit, bool already);
  static IntegrateOutcome Waiting(std::string reason);
  // The task branch has no commit of its own: nothing to integrate, and so
  // never a success (the agent's work, if any, is somewhere else).
  static IntegrateOutcome Empty(std::string reason);
  static IntegrateOutcome Failed(const Error& e);

  nlohmann::json ToJson() const;
  int ExitCode() const;
};

const char* OutcomeName(IntegrateOutcome::Kind k);

}  // namespace pipeline
