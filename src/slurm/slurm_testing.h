// A ProcessRunner for tests of the Slurm commands: answers each call with the
// next scripted result and remembers what was run.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
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

// A runner whose sbatch does not answer until the test opens the gate
// (Submit must return while the command still runs); job ids count from 100.
// Any other program answers what Answer() set for it, else success with
// nothing printed (no job known).
class GatedRunner : public ProcessRunner {
 public:
  Result<CommandResult> Run(const Command& cmd) override {
    std::unique_lock<std::mutex> lock(mu_);
    calls.push_back(cmd);
    if (cmd.argv.at(0) != "sbatch") {
      auto it = others_.find(cmd.argv[0]);
      if (it != others_.end()) return it->second;
      CommandResult quiet;
      quiet.exit.exit_code = 0;
      return quiet;
    }
    cv_.wait(lock, [&] { return open_; });
    CommandResult r;
    r.exit.exit_code = exit_code_;
    r.out = std::to_string(next_id_++) + "\n";
    r.err = exit_code_ ? "sbatch: error: invalid partition specified" : "";
    r.timed_out = timed_out_;
    return r;
  }
  // timed_out: sbatch is answered as killed at its deadline.
  void Open(int exit_code = 0, bool timed_out = false) {
    std::lock_guard<std::mutex> lock(mu_);
    exit_code_ = exit_code;
    timed_out_ = timed_out;
    open_ = true;
    cv_.notify_all();
  }
  void Answer(const std::string& program, int exit_code, std::string out, std::string err = "") {
    std::lock_guard<std::mutex> lock(mu_);
    CommandResult& r = others_[program];
    r.exit.exit_code = exit_code;
    r.out = std::move(out);
    r.err = std::move(err);
  }
  size_t Calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls.size();
  }
  std::vector<Command> calls;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, CommandResult> others_;
  bool open_ = false, timed_out_ = false;
  int exit_code_ = 0;
  int next_id_ = 100;
};

}  // namespace pipeline::slurm
