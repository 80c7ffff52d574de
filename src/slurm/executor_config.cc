#include "slurm/executor_config.h"

#include "slurm/client.h"
#include "util/files.h"

namespace pipeline::slurm {

Result<std::optional<SlurmExecutor>> SlurmExecutorFromConfig(const Config& config, const RootPaths& paths,
                                                             const std::string& self_exe) {
  PL_ASSIGN_OR_RETURN(std::string kind, config.StringOr("executor.kind", "local"));
  if (kind == "local") return std::optional<SlurmExecutor>();
  if (kind != "slurm")
    return Error{ErrorKind::kInvalidArgument,
                 config.origin() + ": executor.kind is \"" + kind + "\"; expected \"local\" or \"slurm\""};
  SlurmExecutor e;
  ExecutorOptions& o = e.options;
  PL_ASSIGN_OR_RETURN(o.shared_dir, config.StringOr("executor.slurm.shared_dir", paths.root + "/cluster"));
  o.shared_dir = AbsolutePath(o.shared_dir);
  auto name = [&](const char* key, std::string* out) -> Status {
    PL_ASSIGN_OR_RETURN(*out, config.StringOr(key, ""));
    if (!out->empty() && !ValidName(*out))
      return Error{ErrorKind::kInvalidArgument,
                   config.origin() + ": " + key + " \"" + *out + "\" may hold only letters, digits and ._-"};
    return Status::Ok();
  };
  PL_RETURN_IF_ERROR(name("executor.slurm.partition", &o.partition));
  PL_RETURN_IF_ERROR(name("executor.slurm.check_partition", &o.check_partition));
  PL_RETURN_IF_ERROR(name("executor.slurm.account", &o.account));
  auto positive = [&](const char* key, int64_t def, int64_t* out) -> Status {
    PL_ASSIGN_OR_RETURN(*out, config.IntOr(key, def));
    if (*out < 0 || (def == 0 && *out == 0 && config.Has(key)))
      return Error{ErrorKind::kInvalidArgument, config.origin() + ": " + key + " must be at least 1"};
    return Status::Ok();
  };
  int64_t v = 0;
  PL_RETURN_IF_ERROR(positive("executor.slurm.time_limit_minutes", 0, &v));
  o.time_limit_minutes = static_cast<int>(v);
  PL_RETURN_IF_ERROR(positive("executor.slurm.cpus", 0, &v));
  o.cpus = static_cast<int>(v);
  PL_RETURN_IF_ERROR(positive("executor.slurm.mem_mb", 0, &o.mem_mb));
  PL_RETURN_IF_ERROR(positive("executor.slurm.poll_ms", 500, &v));
  if (v < 1) return Error{ErrorKind::kInvalidArgument, config.origin() + ": executor.slurm.poll_ms must be at least 1"};
  o.poll_every = v * 1000;
  PL_ASSIGN_OR_RETURN(e.slurm_conf, config.StringOr("executor.slurm.slurm_conf", ""));
  o.self_exe = self_exe;
  return std::optional<SlurmExecutor>(std::move(e));
}

}  // namespace pipeline::slurm
