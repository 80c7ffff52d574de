#include "sched/launcher.h"

namespace pipeline {

Status FailUnclaimedRuns(Db& db, Micros now, Micros grace) {
  return db.Write([&]() -> Status {
    Stmt& s = db.Cached(
        "UPDATE runs SET status = 'failed', error = 'never started', ended_at = ? "
        "WHERE status = 'starting' AND monitor_pid IS NULL AND cluster_job IS NULL AND created_at < ? "
        "AND substr(run_id, 1, 9) = 'pipeline-'");
    s.BindAll(now, now - grace);
    return s.Run();
  });
}

}  // namespace pipeline
