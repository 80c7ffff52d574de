#include "slurm/node_job.h"

#include <stdlib.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "agent/monitor.h"
#include "tasks/task_store.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline::slurm {
namespace {

using nlohmann::json;

template <typename T>
json Opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}
template <typename T>
std::optional<T> OptOf(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].get<T>();
}

std::string Basename(const std::string& p) {
  size_t slash = p.find_last_of('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}
std::string Dirname(const std::string& p) {
  size_t slash = p.find_last_of('/');
  return slash == std::string::npos || slash == 0 ? "/" : p.substr(0, slash);
}

// Writes result.json for a job that could not even start the monitor.
int FailJob(const std::string& run_dir, const std::string& why) {
  json r = {{"status", "failed"}, {"error", "cluster job: " + why}, {"ended_at", SystemClock().Now()},
            {"cost_cents", 0}, {"turns", 0}, {"comments", json::array()}};
  Status s = WriteFileAtomic(run_dir + "/result.json", r.dump() + "\n");
  return s.ok() ? 0 : 1;
}

}  // namespace

Status WriteJob(Db& db, const RootPaths& paths, const std::string& run_id, const std::string& run_dir) {
  PL_ASSIGN_OR_RETURN(RunRecord run, GetRun(db, run_id));
  return WriteJob(db, paths, run, run_dir);
}

Status WriteJob(Db& db, const RootPaths& paths, const RunRecord& run, const std::string& run_dir) {
  json j;
  j["run"] = {{"run_id", run.run_id},
              {"task_id", Opt(run.task_id)},
              {"domain", Opt(run.domain)},
              {"phase", run.phase},
              {"patchset", run.patchset},
              {"profile", run.profile},
              {"workspace", run.workspace},
              {"argv", run.argv},
              {"model", Opt(run.model)},
              {"env", run.env},
              {"timeout_s", Opt(run.timeout_s)},
              {"max_cost_cents", Opt(run.max_cost_cents)},
              {"max_iter", Opt(run.max_iter)}};
  j["prompt"] = nullptr;
  if (!run.prompt_path.empty()) {
    PL_ASSIGN_OR_RETURN(std::string prompt, ReadFile(run.prompt_path));
    j["prompt"] = prompt;
  }
  j["task"] = nullptr;
  if (run.task_id) {
    TaskStore tasks(db, SystemClock());
    PL_ASSIGN_OR_RETURN(Task t, tasks.Get(*run.task_id));
    std::string line;
    AppendTaskJsonText(&line, t);
    j["task"] = line;
  }
  auto config = ReadFile(paths.config());
  j["config"] = config.ok() ? *config : "";
  return WriteFileAtomic(run_dir + "/job.json", j.dump() + "\n", FileSync::kNoFsync);
}

namespace {
constexpr const char* kStoreFiles[] = {"/pipeline.db", "/pipeline.db-wal"};
}

Status WriteStoreTemplate(const std::string& shared_dir) {
  std::string final_dir = shared_dir + "/store-template";
  if (PathExists(final_dir + "/pipeline.db")) return Status::Ok();
  std::string tmp = shared_dir + "/store-template.tmp-" + std::to_string(getpid());
  (void)RemoveAll(tmp);
  {
    PL_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, CreateStore(RootPaths{tmp}));
  }
  // A directory rename is atomic: a node sees no template or a whole one.
  if (rename(tmp.c_str(), final_dir.c_str()) != 0 && !PathExists(final_dir + "/pipeline.db")) {
    Status err = Error{ErrorKind::kIO, "cannot rename " + tmp + " to " + final_dir};
    (void)RemoveAll(tmp);
    return err;
  }
  (void)RemoveAll(tmp);  // another scheduler's template won
  return Status::Ok();
}

// Copies the store template into the private root; false when there is
// none (CreateStore then builds the store from nothing).
static bool CopyStoreTemplate(const std::string& shared_dir, const RootPaths& local) {
  std::string from = shared_dir + "/store-template";
  if (!PathExists(from + "/pipeline.db")) return false;
  for (const char* f : kStoreFiles) {
    if (!PathExists(from + f)) continue;
    auto data = ReadFile(from + f);
    if (!data.ok() || !WriteFileAtomic(local.root + f, *data, FileSync::kNoFsync).ok()) {
      for (const char* g : kStoreFiles) (void)RemoveAll(local.root + g);
      return false;
    }
  }
  return true;
}

int RunNodeJob(const std::string& run_dir_in) {
  std::string run_dir = AbsolutePath(run_dir_in);
  auto text = ReadFile(run_dir + "/job.json");
  if (!text.ok()) return FailJob(run_dir, text.message());
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.contains("run")) return FailJob(run_dir, "job.json is not a job");
  const json& r = j["run"];
  RunSpec spec;
  try {
    spec.run_id = r.at("run_id").get<std::string>();
    spec.task_id = OptOf<std::string>(r, "task_id");
    spec.domain = OptOf<std::string>(r, "domain");
    spec.phase = r.at("phase").get<std::string>();
    spec.patchset = r.at("patchset").get<int64_t>();
    spec.profile = r.at("profile").get<std::string>();
    spec.workspace = r.at("workspace").get<std::string>();
    spec.argv = r.at("argv").get<std::vector<std::string>>();
    spec.model = OptOf<std::string>(r, "model");
    spec.env = r.at("env").get<std::map<std::string, std::string>>();
    spec.timeout_s = OptOf<int64_t>(r, "timeout_s");
    spec.max_cost_cents = OptOf<int64_t>(r, "max_cost_cents");
    spec.max_iter = OptOf<int64_t>(r, "max_iter");
  } catch (const json::exception& e) {
    return FailJob(run_dir, std::string("job.json: ") + e.what());
  }
  if (!ValidateRunId(spec.run_id).ok() || Basename(run_dir) != spec.run_id)
    return FailJob(run_dir, "the run directory is not the run's own");

  // A private root on node-local disk; runs/ is the shared runs directory,
  // so the monitor's logs are RUN_DIR/stdout.log and stderr.log.
  const char* tmp = getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/pipeline-job-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) return FailJob(run_dir, "cannot create a private directory in " + tmpl);
  RootPaths local{buf.data()};
  auto cleanup = [&] { (void)RemoveAll(local.root); };  // remove_all does not follow the runs/ link
  if (symlink(Dirname(run_dir).c_str(), local.runs_dir().c_str()) != 0) {
    cleanup();
    return FailJob(run_dir, "cannot link the shared runs directory");
  }
  std::string why;
  auto prepare = [&]() -> Status {
    PL_RETURN_IF_ERROR(WriteFileAtomic(local.config(), j.value("config", ""), FileSync::kNoFsync));
    // RUN_DIR is SHARED_DIR/runs/<id>: the template is two levels up.
    (void)CopyStoreTemplate(Dirname(Dirname(run_dir)), local);
    PL_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, CreateStore(local));  // opens (and migrates) a copied one
    if (j.contains("task") && j["task"].is_string()) {
      std::istringstream in(j["task"].get<std::string>() + "\n");
      PL_RETURN_IF_ERROR(TaskStore(*db, SystemClock()).Import(in));
    }
    if (j.contains("prompt") && j["prompt"].is_string()) {
      PL_RETURN_IF_ERROR(MakeDirs(local.prompts_dir()));
      spec.prompt_path = local.prompts_dir() + "/" + spec.run_id + ".md";
      PL_RETURN_IF_ERROR(WriteFileAtomic(spec.prompt_path, j["prompt"].get<std::string>(), FileSync::kNoFsync));
    }
    return InsertRun(*db, spec, SystemClock());
  };
  if (Status s = prepare(); !s.ok()) {
    cleanup();
    return FailJob(run_dir, s.message());
  }

  (void)RunMonitor(local, spec.run_id, -1);

  json result;
  auto db = OpenStore(local);
  if (!db.ok()) {
    cleanup();
    return FailJob(run_dir, db.message());
  }
  auto run = GetRun(**db, spec.run_id);
  if (!run.ok()) {
    cleanup();
    return FailJob(run_dir, run.message());
  }
  result["status"] = RunStatusName(run->status);
  result["exit_code"] = Opt(run->exit_code);
  result["term_signal"] = Opt(run->term_signal);
  result["started_at"] = Opt(run->started_at);
  result["ended_at"] = run->ended_at.value_or(SystemClock().Now());
  result["cost_cents"] = run->cost_cents;
  result["turns"] = run->turns;
  result["head_before"] = Opt(run->head_before);
  result["profile"] = run->profile;
  result["head_after"] = Opt(run->head_after);
  result["error"] = Opt(run->error);
  result["comments"] = json::array();
  if (spec.task_id) {
    auto t = TaskStore(**db, SystemClock()).Get(*spec.task_id);
    if (t.ok())
      for (const Comment& c : t->comments)
        if (StartsWith(c.author, "agent:") && c.created_at >= run->created_at)
          result["comments"].push_back({{"text", c.text}, {"author", c.author}, {"created_at", c.created_at}});
  }
  db->reset();
  // Durable before the job ends: the scheduler trusts it once it sees it.
  // Written before the private root is removed: the result is what the
  // scheduler waits for to hand the slot on, the clean-up is not.
  Status w = WriteFileAtomic(run_dir + "/result.json", result.dump() + "\n");
  cleanup();
  return w.ok() ? 0 : 1;
}

Result<std::optional<JobResult>> ReadJobResult(const std::string& run_dir) {
  std::string path = run_dir + "/result.json";
  if (!PathExists(path)) return std::optional<JobResult>();
  PL_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  json j = json::parse(text, nullptr, false);
  auto bad = [&](const std::string& why) { return Error{ErrorKind::kIO, path + ": " + why}; };
  if (j.is_discarded() || !j.is_object()) return bad("not JSON");
  JobResult r;
  try {
    auto status = ParseRunStatus(j.at("status").get<std::string>());
    if (!status || !IsTerminal(*status)) return bad("status is not a final run status");
    r.outcome.status = *status;
    r.outcome.exit_code = OptOf<int>(j, "exit_code");
    r.outcome.term_signal = OptOf<int>(j, "term_signal");
    r.outcome.ended_at = j.at("ended_at").get<Micros>();
    r.outcome.cost_cents = j.at("cost_cents").get<double>();
    r.outcome.turns = j.at("turns").get<int64_t>();
    r.outcome.head_after = OptOf<std::string>(j, "head_after");
    r.outcome.error = OptOf<std::string>(j, "error");
    r.started_at = OptOf<Micros>(j, "started_at");
    r.head_before = OptOf<std::string>(j, "head_before");
    r.profile = j.value("profile", "");
    for (const json& c : j.at("comments"))
      r.comments.push_back({c.at("text").get<std::string>(), c.at("author").get<std::string>(),
                            c.at("created_at").get<Micros>()});
  } catch (const json::exception& e) {
    return bad(e.what());
  }
  if (r.outcome.cost_cents < 0 || r.outcome.turns < 0) return bad("negative cost or turns");
  return std::optional<JobResult>(std::move(r));
}

Status ImportJobResult(Db& db, const std::string& run_id, const JobResult& result) {
  return db.Write([&]() -> Status {
    PL_ASSIGN_OR_RETURN(RunRecord run, GetRun(db, run_id));
    if (IsTerminal(run.status)) return Error{ErrorKind::kRefused, "run " + run_id + " already ended"};
    if (run.task_id) {
      TaskStore tasks(db, SystemClock());
      for (const JobComment& c : result.comments) {
        // Only the agent's own words come back, and only on its own task.
        if (!StartsWith(c.author, "agent:")) continue;
        PL_RETURN_IF_ERROR(tasks.AddComment(*run.task_id, c.text, c.author).status());
      }
    }
    if (run.status == RunStatus::kStarting) {
      // The row never saw the node start the agent: record that first, so
      // the row carries the head the agent started from and its profile.
      PL_RETURN_IF_ERROR(MarkRunRunning(db, run_id, /*agent_pid=*/0,
                                        result.started_at.value_or(result.outcome.ended_at), result.head_before,
                                        result.profile.empty() ? run.profile : result.profile));
    }
    return FinishRun(db, run_id, result.outcome);
  });
}

}  // namespace pipeline::slurm
