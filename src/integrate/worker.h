// The merge queue worker: one integration of one task branch into a base
// branch, without touching any checkout until the very end.
//
//   B = base head, T = pipeline/<id> head
//   T has no commit that B lacks             -> empty (never a success)
//   git merge-tree B T conflicts             -> conflict, files listed
//   the merged tree is B's tree              -> integrated (already)
//   commit the merged tree: squash: S (parent B); merge: S, then M (B, S)
//   run the domain's check on that commit    -> check-failed, output tail
//   move the base B -> NEW (update-ref CAS)  -> lost the race: start over
//   carry a clean checkout of the base along -> integrated
//
// The base branch moves in one atomic step, so a kill -9 anywhere leaves it
// before or after the task's commit, never in between; the one two-step
// change (ref, then a checkout's files) is journalled (integrate_journal.h).
// The worker never changes the store: the scheduler records the outcome.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "git/git.h"
#include "proc/process.h"
#include "integrate/outcome.h"
#include "config/verify.h"
#include "store/root.h"

namespace pipeline {

// Attempts after the first when the base moves under us.
inline constexpr int kIntegrateRetries = 3;

struct IntegrateRequest {
  std::string task_id;
  std::string title;                    // for the commit message
  std::string base;                     // short branch name ("main")
  std::string mode = "squash";          // "squash" | "merge" (Git::CommitOnto)
  std::optional<VerifyCommand> check;   // nullopt: integrate without a check
  std::map<std::string, std::string> check_env;  // added to the check's environment
  int64_t lock_wait_ms = 0;             // how long to wait for another integration of base
};

// Test seams; production leaves them empty.
struct IntegrateHooks {
  // After the check passed, just before the base moves (attempt 0, 1, ...).
  std::function<void(int attempt)> before_advance;
  // Called after the ref moved and before the checkout follows; a crash test
  // kills the process here.
  std::function<void()> after_ref;
};

class Integrator {
 public:
  Integrator(Git& git, ProcessRunner& runner, RootPaths paths);

  // The commit the base branch points at; a missing branch is NotFound with
  // the line a person reads. Both workers start each attempt from it.
  static Result<std::string> BaseTip(Git& git, const std::string& base);

  IntegrateOutcome Run(const IntegrateRequest& req, const IntegrateHooks& hooks = {});

  // The message of the base's new head: "<id>: <title>" (merge: "Merge task
  // <id>: <title>") and a blank line and the trailer "Task-Id: <id>".
  static std::string CommitMessage(const IntegrateRequest& req);
  // The message of the commit holding the patchset (the squash commit, also
  // the merged side in merge mode): "<id>: <title>", the trailer.
  static std::string SquashMessage(const IntegrateRequest& req);

 private:
  // One attempt from the base's current head; nullopt when the base moved
  // before it could be advanced.
  Result<std::optional<IntegrateOutcome>> Attempt(const IntegrateRequest& req, const IntegrateHooks& hooks,
                                                  int attempt);
  // A reason to wait when base is checked out with local changes, else "".
  Result<std::string> CheckoutBlocker(const std::string& base, std::optional<std::string>* checkout);

  Git& git_;
  ProcessRunner& runner_;
  RootPaths paths_;
};

}  // namespace pipeline
