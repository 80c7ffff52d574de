// sbatch off the scheduler's thread. A submission waits for the controller
// (5-20 ms here, more under load, up to the command timeout when it is
// down); done inside the scheduler's step, every start of a step waited for
// the sbatch of the one before, and ended runs waited to be seen until the
// step was over. Here each submission runs on a thread of its own (one per
// run being started, so at most as many as the scheduler has slots), and
// its answer comes back through Take(); fd() becomes readable when one is
// there, for the scheduler's wait loop.
//
// The threads only run the command: the store is written by the caller,
// on the scheduler's thread, when it takes the answer.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "slurm/client.h"
#include "util/clock.h"

namespace pipeline::slurm {

class Submitter {
 public:
  explicit Submitter(Client& client);
  // Waits for the submissions in flight (each ends within the client's command timeout).
  ~Submitter();
  Submitter(const Submitter&) = delete;
  Submitter& operator=(const Submitter&) = delete;

  // Starts sbatch for the run and returns at once.
  void Submit(const std::string& run_id, SubmitRequest request);

  struct Answer {
    std::string run_id;
    Result<std::string> job_id;  // sbatch's job id, or why it failed
  };
  // The submissions that finished since the last call, in the order they finished.
  std::vector<Answer> Take();

  // True while the run's sbatch has not answered, or its answer was not taken.
  bool Pending(const std::string& run_id) const;
  bool AnyPending() const;

  // Readable while an answer waits to be taken.
  int fd() const { return event_fd_; }
  // Clears fd()'s readiness (the answers stay until Take).
  void Acknowledge();
  // Blocks until an answer waits or timeout passes; false on timeout.
  bool WaitForAnswer(Micros timeout) const;

 private:
  Client& client_;
  int event_fd_ = -1;
  mutable std::mutex mu_;
  std::set<std::string> pending_;             // submitted, answer not taken
  std::vector<Answer> answers_;               // finished, not taken
  std::map<std::string, std::thread> threads_;  // joined when their answer is taken
};

}  // namespace pipeline::slurm
