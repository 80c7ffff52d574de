// A ProcessRunner for tests of the Slurm commands: answers each call with the
// next scripted result and remembers what was run.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "proc/process.h"

namespace pipeline::slurm {

class ScriptedRunner : public ProcessRunner {
 public:
  void Answer(int exit_code, std::string out, std::string err = "") {
    CommandResult r;
    r.exit.exit_code = exit_code;
    r.out = std::move(out);
    r.err = std::move(err);
    answers_.push_back(std::move(r));
  }
  Result<CommandResult> Run(const Command& cmd) override {
    calls.push_back(cmd);
    if (answers_.empty()) return Error{ErrorKind::kIO, "no scripted answer"};
    CommandResult r = answers_.front();
    answers_.pop_front();
    return r;
  }
  std::vector<Command> calls;

 private:
  std::deque<CommandResult> answers_;
};

}  // namespace pipeline::slurm
