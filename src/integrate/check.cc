#include "integrate/check.h"

#include "util/files.h"
#include "util/log.h"
#include "util/text.h"

namespace pipeline {

Result<CheckResult> RunIntegrationCheck(Git& git, ProcessRunner& runner, const std::string& scratch_dir,
                                        const std::string& commit, const VerifyCommand& cmd,
                                        const std::map<std::string, std::string>& env) {
  auto exported = git.ExportTree(commit, scratch_dir);
  if (!exported.ok() && PathExists(scratch_dir)) {
    // A directory git does not know (a crash inside `worktree add`, or a
    // person's leftovers): it is ours by name, so start it afresh.
    LogWarning("resetting the scratch worktree {}: {}", scratch_dir, exported.message());
    PL_RETURN_IF_ERROR(RemoveAll(scratch_dir));
    exported = git.ExportTree(commit, scratch_dir);
  }
  if (!exported.ok()) return exported.error();

  Command c;
  c.argv = cmd.argv;
  c.cwd = scratch_dir;
  c.env_set = env;
  c.timeout_ms = cmd.timeout_s * 1000;
  Log("checking {} in {}: {}", commit, scratch_dir, cmd.argv.front());
  auto r = runner.Run(c);
  CheckResult out;
  if (!r.ok()) {
    out.output_tail = "cannot start the verify command " + Quoted(cmd.argv.front()) + ": " + r.message();
    return out;
  }
  out.passed = r->ok();
  out.timed_out = r->timed_out;
  std::string all = r->out;
  if (!r->err.empty()) {
    if (!all.empty() && all.back() != '\n') all += '\n';
    all += r->err;
  }
  if (r->timed_out) {
    all += "\n[verify command timed out after " + std::to_string(cmd.timeout_s) + " s]\n";
  } else if (r->exit.signaled()) {
    all += "\n[verify command killed by signal " + std::to_string(r->exit.term_signal) + "]\n";
  } else if (!r->exit.success()) {
    all += "\n[verify command exited with code " + std::to_string(r->exit.exit_code) + "]\n";
  }
  out.output_tail = TailUtf8(all, kCheckOutputTailBytes);
  return out;
}

}  // namespace pipeline
