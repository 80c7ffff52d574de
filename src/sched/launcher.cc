#include "sched/launcher.h"

#include "util/text.h"

namespace pipeline {

bool IsClusterInfrastructureError(const std::string& error) { return StartsWith(error, kClusterErrorPrefix); }

Result<std::optional<std::string>> ClusterQueueReason(Db& db, const std::string& task_id, const std::string& run_id) {
  Stmt& s = db.Cached(
      "SELECT detail FROM events WHERE task_id IS ? AND run_id = ? AND kind = 'cluster-queue' "
      "ORDER BY id DESC LIMIT 1");
  s.BindAll(task_id.empty() ? std::optional<std::string>() : std::optional<std::string>(task_id), run_id);
  PL_ASSIGN_OR_RETURN(bool row, s.Step());
  std::optional<std::string> reason;
  if (row) {
    std::string detail = s.OptText(0).value_or("");
    if (!detail.empty()) reason = "queued on Slurm: " + detail;
  }
  s.Reset();
  return reason;
}

Status FailUnclaimedRuns(Db& db, Micros now, Micros grace) {
  return db.Write([&]() -> Status {
    Stmt& s = db.Cached(
        "UPDATE runs SET status = 'failed', error = 'never started', ended_at = ? "
        "WHERE status = 'starting' AND monitor_pid IS NULL AND cluster_job IS NULL AND executor IS NULL "
        "AND created_at < ? "
        "AND substr(run_id, 1, 9) = 'pipeline-'");
    s.BindAll(now, now - grace);
    return s.Run();
  });
}

}  // namespace pipeline
