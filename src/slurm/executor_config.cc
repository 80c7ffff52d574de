#include "slurm/executor_config.h"

#include "slurm/client.h"
#include "util/files.h"

#include <type_traits>

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
  // The sections that override the job settings for a domain or a profile.
  for (const char* group : {"domains", "profiles"}) {
    auto& into = std::string(group) == "domains" ? o.domains : o.profiles;
    for (const std::string& key : config.Keys(std::string("executor.slurm.") + group)) {
      std::string base = std::string("executor.slurm.") + group + ".\"" + key + "\".";
      JobSettings js;
      auto opt_name = [&](const char* k, std::optional<std::string>* out) -> Status {
        PL_ASSIGN_OR_RETURN(auto v, config.String(base + k));
        if (v && !ValidName(*v))
          return Error{ErrorKind::kInvalidArgument,
                       config.origin() + ": " + base + k + " \"" + *v + "\" may hold only letters, digits and ._-"};
        *out = v;
        return Status::Ok();
      };
      auto opt_positive = [&](const char* k, auto* out) -> Status {
        PL_ASSIGN_OR_RETURN(auto v, config.Int(base + k));
        if (v && *v < 1) return Error{ErrorKind::kInvalidArgument, config.origin() + ": " + base + k + " must be at least 1"};
        if (v) *out = static_cast<typename std::remove_reference_t<decltype(**out)>>(*v);
        return Status::Ok();
      };
      PL_RETURN_IF_ERROR(opt_name("partition", &js.partition));
      PL_RETURN_IF_ERROR(opt_name("check_partition", &js.check_partition));
      PL_RETURN_IF_ERROR(opt_name("account", &js.account));
      PL_RETURN_IF_ERROR(opt_positive("time_limit_minutes", &js.time_limit_minutes));
      PL_RETURN_IF_ERROR(opt_positive("cpus", &js.cpus));
      PL_RETURN_IF_ERROR(opt_positive("mem_mb", &js.mem_mb));
      into[key] = std::move(js);
    }
  }
  PL_ASSIGN_OR_RETURN(std::string agent_profile, config.StringOr("agent.profile", "command"));
  PL_ASSIGN_OR_RETURN(o.default_profile, config.StringOr("scheduler.profile", agent_profile));
  if (o.default_profile.empty()) o.default_profile = agent_profile;
  PL_ASSIGN_OR_RETURN(e.slurm_conf, config.StringOr("executor.slurm.slurm_conf", ""));
  o.self_exe = self_exe;
  return std::optional<SlurmExecutor>(std::move(e));
}

}  // namespace pipeline::slurm
