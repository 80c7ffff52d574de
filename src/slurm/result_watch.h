// Tells the scheduler as soon as a node has written a run's result: one
// inotify watch per run directory for files renamed into it (result.json
// arrives by rename, slurm/node_job.h), so a slot is handed on within
// milliseconds of the run's end instead of at the next poll.
//
// Only a hint. The launcher still looks for result files at every poll,
// which is what sees a result written on another host of a network file
// system: inotify reports only what this host's kernel did. Without inotify
// (no instance left, a file system that does not support it) nothing is
// watched and the poll alone works as before.
#pragma once

#include <map>
#include <string>

namespace pipeline::slurm {

class ResultWatch {
 public:
  ResultWatch();
  ~ResultWatch();
  ResultWatch(const ResultWatch&) = delete;
  ResultWatch& operator=(const ResultWatch&) = delete;

  // Watches dir for the run's result; false when it cannot (the poll then finds it).
  bool Add(const std::string& run_id, const std::string& dir);
  void Remove(const std::string& run_id);

  // Readable when something was renamed into a watched directory; -1 when
  // nothing is watched, so the wait loop does not wake for nothing.
  int fd() const { return watched_.empty() ? -1 : fd_; }

  // Reads every pending event; true when one was a result file.
  bool Drain();

 private:
  int fd_ = -1;
  std::map<std::string, int> watched_;  // run id -> watch descriptor
};

}  // namespace pipeline::slurm
