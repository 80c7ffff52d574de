// A run carried out as a cluster job. The store stays on the scheduler's
// host (SQLite over a network filesystem is how stores get corrupted); what
// crosses to the node and back are files in the run's directory under a
// path both can reach:
//
//   RUN_DIR/job.json     written by the scheduler's host before sbatch: the
//                        run as recorded, the task it works on, the config
//   RUN_DIR/stdout.log   the agent's output, written live by the node
//   RUN_DIR/result.json  written by the node once, atomically, at the end:
//                        the run's final row and the comments the agent made
//
// On the node, `pipeline agent __job RUN_DIR` builds a private pipeline
// root on node-local disk (a store holding just this task and run, the
// config, and `runs/` pointing at the shared runs directory so the logs land
// in RUN_DIR), runs the same monitor a local run uses against it, and exports
// the ended row. The monitor's confinement, limits and cost reading are the
// local ones, unchanged.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/run_record.h"
#include "agent/run_store.h"
#include "store/db.h"
#include "store/root.h"
#include "util/status.h"

namespace pipeline::slurm {

// Scheduler's host: writes RUN_DIR/job.json for a run recorded in `db`
// (its row, its task if any, the config's text). RUN_DIR must exist.
// Without an fsync, like the run's prompt: the job is submitted right after
// and reads it from the page cache (or, on a network file system, from the
// server, which has it once the file is closed); a machine crash that lost
// it takes the local job with it, and a job that finds no job.json fails
// the run with a result, which the scheduler retries.
Status WriteJob(Db& db, const RootPaths& paths, const std::string& run_id, const std::string& run_dir);
// The same for a row the caller has read already.
Status WriteJob(Db& db, const RootPaths& paths, const RunRecord& run, const std::string& run_dir);

// Scheduler's host: an empty, migrated store in SHARED_DIR/store-template/
// (made once, atomically), which a node copies instead of creating its
// private store from nothing: creating one is a schema's worth of
// statements and half a dozen fsyncs, a copy is two small files.
Status WriteStoreTemplate(const std::string& shared_dir);

// The node: runs the job in RUN_DIR and writes RUN_DIR/result.json.
// Returns the process's exit code (0 when a result was written, whatever
// the run's own outcome).
int RunNodeJob(const std::string& run_dir);

struct JobComment {
  std::string text, author;
  Micros created_at = 0;
};

struct JobResult {
  RunOutcome outcome;
  std::optional<Micros> started_at;
  std::optional<std::string> head_before;
  std::string profile;               // as the node resolved it
  std::vector<JobComment> comments;  // made by the agent during the run
};

// RUN_DIR/result.json, or nullopt while the node has not written it.
Result<std::optional<JobResult>> ReadJobResult(const std::string& run_dir);

// Scheduler's host: records the result in the store in one transaction:
// the agent's comments on its task, then the run's final row (FinishRun).
// kRefused when the run had already ended (imported before, or reaped).
Status ImportJobResult(Db& db, const std::string& run_id, const JobResult& result);

}  // namespace pipeline::slurm
