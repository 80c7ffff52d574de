#include "integrate/worker.h"

#include <utility>

#include "git/paths.h"
#include "integrate/check.h"
#include "integrate/journal.h"
#include "integrate/lock.h"
#include "util/log.h"
#include "util/text.h"

namespace pipeline {

Integrator::Integrator(Git& git, ProcessRunner& runner, RootPaths paths)
    : git_(git), runner_(runner), paths_(std::move(paths)) {}

Result<std::string> Integrator::BaseTip(Git& git, const std::string& base) {
  auto tip = git.RevParse("refs/heads/" + base);
  if (!tip.ok() && tip.kind() == ErrorKind::kNotFound) {
    return NotFound("base branch " + Quoted(base) + " does not exist");
  }
  return tip;
}

std::string Integrator::SquashMessage(const IntegrateRequest& req) {
  return req.task_id + ": " + SingleLine(req.title) + "\n\nTask-Id: " + req.task_id + "\n";
}

std::string Integrator::CommitMessage(const IntegrateRequest& req) {
  if (req.mode != "merge") return SquashMessage(req);
  return "Merge task " + req.task_id + ": " + SingleLine(req.title) + "\n\nTask-Id: " + req.task_id + "\n";
}

IntegrateOutcome Integrator::Run(const IntegrateRequest& req, const IntegrateHooks& hooks) {
  if (req.mode != "merge" && req.mode != "squash") {
    return IntegrateOutcome::Failed(InvalidArgument("unknown integration mode " + Quoted(req.mode) +
                                                    " (expected squash or merge)"));
  }
  if (Status st = ValidateTaskIdForPath(req.task_id); !st.ok()) return IntegrateOutcome::Failed(st.error());
  if (req.base.empty()) return IntegrateOutcome::Failed(InvalidArgument("no base branch given"));

  auto lock = IntegrateLock::Acquire(IntegrateLockPath(paths_, req.base), req.lock_wait_ms);
  if (!lock.ok()) return IntegrateOutcome::Failed(lock.error());
  if (!*lock) return IntegrateOutcome::Waiting("another integration into " + req.base + " is running");

  // Whatever a killed run left half done comes first.
  auto repair = RepairInterruptedAdvance(git_, IntegrateJournalPath(paths_, req.base));
  if (!repair.ok()) return IntegrateOutcome::Failed(repair.error());
  if (!repair->empty()) return IntegrateOutcome::Waiting(*repair);

  for (int attempt = 0; attempt <= kIntegrateRetries; ++attempt) {
    auto r = Attempt(req, hooks, attempt);
    if (!r.ok()) return IntegrateOutcome::Failed(r.error());
    if (*r) return std::move(**r);
    Log("{} moved during the integration of {}; starting again from its new head", req.base, req.task_id);
  }
  IntegrateOutcome o;
  o.kind = IntegrateOutcome::Kind::kBaseMoved;
  return o;
}

Result<std::string> Integrator::CheckoutBlocker(const std::string& base, std::optional<std::string>* checkout) {
  PL_ASSIGN_OR_RETURN(*checkout, git_.WorktreeWithBranchCheckedOut(base));
  if (!*checkout) return std::string();
  PL_ASSIGN_OR_RETURN(bool clean, git_.IsClean(**checkout));
  if (clean) return std::string();
  return "base branch " + base + " is checked out at " + **checkout + " with uncommitted changes";
}

Result<std::optional<IntegrateOutcome>> Integrator::Attempt(const IntegrateRequest& req,
                                                            const IntegrateHooks& hooks, int attempt) {
  using Out = std::optional<IntegrateOutcome>;
  const std::string base_ref = "refs/heads/" + req.base;
  PL_ASSIGN_OR_RETURN(const std::string b, Integrator::BaseTip(git_, req.base));
  PL_ASSIGN_OR_RETURN(std::string branch, TaskBranch(req.task_id));
  auto tip = git_.RevParse("refs/heads/" + branch);
  if (!tip.ok()) {
    if (tip.kind() == ErrorKind::kNotFound) return NotFound("task " + req.task_id + " has no branch " + branch);
    return tip.error();
  }
  const std::string t = *tip;

  // A branch with no commit of its own adds nothing: calling that a success
  // would mark a task done whose work is elsewhere (or nowhere). A task
  // integrated before is recognised below by its tree, since no mode puts
  // the branch's own commits on the base.
  PL_ASSIGN_OR_RETURN(int ahead, git_.CommitsAhead(t, b));
  if (ahead == 0) {
    return Out(IntegrateOutcome::Empty("the task branch " + branch + " has no commit that " + req.base +
                                       " lacks: nothing to integrate"));
  }

  PL_ASSIGN_OR_RETURN(MergeResult merged, git_.MergeTree(b, t));
  if (!merged.clean) {
    IntegrateOutcome o;
    o.kind = IntegrateOutcome::Kind::kConflict;
    o.files = merged.conflicted_files;
    return Out(std::move(o));
  }
  // The branch's changes are all in the base already (a squash integrated
  // earlier, or the same edits made there): nothing to add.
  PL_ASSIGN_OR_RETURN(std::string base_tree, git_.RevParse(b + "^{tree}"));
  if (merged.tree == base_tree) return Out(IntegrateOutcome::Integrated(b, /*already=*/true));

  // Only the verified result reaches the base: the branch's history (earlier,
  // rejected patchsets included) is never one of the new commits' ancestors.
  PL_ASSIGN_OR_RETURN(std::string next,
                      git_.CommitOnto(req.mode, merged.tree, b, SquashMessage(req), CommitMessage(req)));

  // A dirty checkout of the base would stop us at the end: say so before
  // spending a check on it.
  std::optional<std::string> checkout;
  PL_ASSIGN_OR_RETURN(std::string blocker, CheckoutBlocker(req.base, &checkout));
  if (!blocker.empty()) return Out(IntegrateOutcome::Waiting(blocker));

  if (req.check) {
    auto env = req.check_env;
    env["PIPELINE_COMMIT"] = next;
    env["PIPELINE_BASE_COMMIT"] = b;
    PL_ASSIGN_OR_RETURN(CheckResult check, RunIntegrationCheck(git_, runner_, IntegrateScratchPath(paths_, req.base),
                                                               next, *req.check, env));
    if (!check.passed) {
      IntegrateOutcome o;
      o.kind = IntegrateOutcome::Kind::kCheckFailed;
      o.output_tail = std::move(check.output_tail);
      o.timed_out = check.timed_out;
      return Out(std::move(o));
    }
  }
  if (hooks.before_advance) hooks.before_advance(attempt);

  // The check may have taken minutes: look at the checkout again.
  PL_ASSIGN_OR_RETURN(blocker, CheckoutBlocker(req.base, &checkout));
  if (!blocker.empty()) return Out(IntegrateOutcome::Waiting(blocker));
  const std::string journal = IntegrateJournalPath(paths_, req.base);
  if (checkout) PL_RETURN_IF_ERROR(WriteJournal(journal, {req.task_id, req.base, b, next, *checkout}));

  Status swapped = git_.CompareAndSwapRef(base_ref, next, b);
  if (!swapped.ok()) {
    PL_RETURN_IF_ERROR(RemoveJournal(journal));
    if (swapped.kind() == ErrorKind::kConflict) return Out();  // someone else moved the base
    return swapped.error();
  }
  if (hooks.after_ref) hooks.after_ref();

  IntegrateOutcome done = IntegrateOutcome::Integrated(next, /*already=*/false);
  if (checkout) {
    Status followed = git_.FastForwardCheckout(*checkout, b, next);
    if (!followed.ok()) {
      // The task is integrated; only the person's files lag. The journal
      // stays, so the next run brings them forward once the tree allows it.
      done.warning = "the checkout of " + req.base + " at " + *checkout +
                     " could not be brought forward: " + followed.message();
      LogWarning("{}", done.warning);
      return Out(std::move(done));
    }
    PL_RETURN_IF_ERROR(RemoveJournal(journal));
  }
  Log("integrated {} into {} at {}", req.task_id, req.base, next);
  return Out(std::move(done));
}

}  // namespace pipeline
