#include "agent/run_record.h"

#include "util/text.h"

namespace pipeline {

namespace {
struct StatusName {
  RunStatus status;
  const char* name;
};
constexpr StatusName kNames[] = {
    {RunStatus::kStarting, "starting"}, {RunStatus::kRunning, "running"},   {RunStatus::kDone, "done"},
    {RunStatus::kFailed, "failed"},     {RunStatus::kTimeout, "timeout"},   {RunStatus::kKilled, "killed"},
    {RunStatus::kOverBudget, "over-budget"}, {RunStatus::kNeedsInput, "needs-input"},
};

nlohmann::json OptTime(const std::optional<Micros>& t) {
  return t ? nlohmann::json(FormatIso8601(*t)) : nlohmann::json(nullptr);
}
template <typename T>
nlohmann::json Opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}
}  // namespace

const char* RunStatusName(RunStatus s) {
  for (const auto& n : kNames)
    if (n.status == s) return n.name;
  return "unknown";
}

std::optional<RunStatus> ParseRunStatus(const std::string& s) {
  for (const auto& n : kNames)
    if (s == n.name) return n.status;
  return std::nullopt;
}

bool IsTerminal(RunStatus s) { return s != RunStatus::kStarting && s != RunStatus::kRunning; }

nlohmann::json RunToStatusJson(const RunRecord& r) {
  nlohmann::json j;
  j["run_id"] = r.run_id;
  j["status"] = IsTerminal(r.status) ? RunStatusName(r.status) : "running";
  j["state"] = RunStatusName(r.status);
  j["cost_cents"] = r.cost_cents;
  j["error"] = Opt(r.error);
  j["exit_code"] = Opt(r.exit_code);
  j["term_signal"] = Opt(r.term_signal);
  j["turns"] = r.turns;
  j["created_at"] = FormatIso8601(r.created_at);
  j["started_at"] = OptTime(r.started_at);
  j["ended_at"] = OptTime(r.ended_at);
  j["head_before"] = Opt(r.head_before);
  j["head_commit"] = Opt(r.head_after);
  j["stdout_log"] = r.stdout_path;
  j["stderr_log"] = r.stderr_path;
  j["task_id"] = Opt(r.task_id);
  j["domain"] = Opt(r.domain);
  j["phase"] = r.phase;
  j["patchset"] = r.patchset;
  j["profile"] = r.profile;
  j["workspace"] = r.workspace;
  j["monitor_pid"] = r.monitor_pid;
  j["agent_pid"] = r.agent_pid;
  return j;
}

Status ValidateRunId(const std::string& id) {
  if (id.empty()) return InvalidArgument("run id is empty");
  if (id.size() > 200) return InvalidArgument("run id is longer than 200 bytes");
  if (!IsValidUtf8(id)) return InvalidArgument("run id is not valid UTF-8");
  if (id == "." || id == "..") return InvalidArgument("run id " + Quoted(id) + " is not allowed");
  if (id[0] == '-') return InvalidArgument("run id " + Quoted(id) + " must not start with '-'");
  for (unsigned char c : id)
    if (c == '/' || c < 0x20 || c == 0x7f)
      return InvalidArgument("run id " + Quoted(id) + " contains '/' or a control character");
  return Status::Ok();
}

}  // namespace pipeline
