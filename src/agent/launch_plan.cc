#include "agent/launch_plan.h"

#include <algorithm>
#include <cstdlib>

#include "agent/frontmatter.h"
#include "agent/profile.h"
#include "sandbox/policy.h"
#include "util/files.h"

namespace pipeline {

Result<LaunchPlan> PlanLaunch(const RootPaths& paths, const Config& config, const RunRecord& run,
                              const std::string& self_exe) {
  LaunchPlan plan;
  plan.cwd = run.workspace;
  plan.model = run.model;
  if (!IsDirectory(run.workspace)) return InvalidArgument("workspace is not a directory: " + run.workspace);

  PL_ASSIGN_OR_RETURN(int64_t def_timeout, config.IntOr("agent.timeout_s", 1800));
  PL_ASSIGN_OR_RETURN(int64_t def_iter, config.IntOr("agent.max_iter", 80));
  PL_ASSIGN_OR_RETURN(int64_t cap, config.IntOr("agent.log_cap_bytes", 8 << 20));
  PL_ASSIGN_OR_RETURN(plan.kill_grace_ms, config.IntOr("agent.kill_grace_ms", 3000));
  if (cap < 1024) return InvalidArgument(config.origin() + ": agent.log_cap_bytes must be at least 1024");
  plan.log_cap_bytes = static_cast<uint64_t>(cap);
  plan.timeout_s = run.timeout_s.value_or(def_timeout);
  int64_t iter = run.max_iter.value_or(def_iter);
  if (iter > 0) plan.max_iter = iter;
  if (run.max_cost_cents && *run.max_cost_cents > 0) plan.max_cost_cents = run.max_cost_cents;

  std::map<std::string, std::string> profile_env;
  if (!run.argv.empty()) {
    plan.argv = run.argv;
    plan.profile = run.profile.empty() ? "command" : run.profile;
    plan.reader = "command";
  } else {
    std::string name = run.profile;
    if (name.empty()) {
      PL_ASSIGN_OR_RETURN(name, DefaultProfileName(config));
    }
    PL_ASSIGN_OR_RETURN(Profile profile, LoadProfile(config, name));
    PL_ASSIGN_OR_RETURN(PromptFile prompt, ReadPromptFile(run.prompt_path));
    Substitutions subs;
    subs.prompt_file = run.prompt_path;
    subs.prompt = prompt.body;
    subs.workspace = run.workspace;
    subs.run_id = run.run_id;
    subs.model = run.model;
    subs.max_iter = plan.max_iter;
    plan.argv = ExpandCommand(profile.command, subs);
    plan.profile = profile.name;
    plan.reader = profile.reader;
    profile_env = profile.env;
    plan.credentials = profile.credentials;
    plan.pass_env = profile.pass_env;
    plan.net_ports = profile.net_ports;
  }
  if (plan.argv.empty()) return InvalidArgument("the agent command is empty");

  std::string dir = self_exe.substr(0, self_exe.find_last_of('/'));
  const char* path = getenv("PATH");
  plan.env = profile_env;
  plan.env["PATH"] = dir + ":" + (path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
  plan.env["PIPELINE_RUN_ID"] = run.run_id;
  plan.env["PIPELINE_ROOT"] = paths.root;
  plan.env["PIPELINE_AUTHOR"] = "agent:engineer";
  if (run.task_id) plan.env["PIPELINE_TASK_ID"] = *run.task_id;
  for (const auto& [k, v] : run.env) plan.env[k] = v;
  // A profile pointed at a model server reaches it without naming its port
  // twice: the env's *_BASE_URLs, and the provider Codex's own config names.
  std::map<std::string, std::string> urls = plan.env;
  if (auto home = plan.env.find("CODEX_HOME"); plan.net_ports && home != plan.env.end()) {
    auto codex = Config::LoadAnyToml(home->second + "/config.toml");
    if (codex.ok()) {
      auto provider = codex->String("model_provider");
      if (provider.ok() && *provider) {
        auto url = codex->String("model_providers.\"" + **provider + "\".base_url");
        if (url.ok() && *url) urls["CODEX_PROVIDER_BASE_URL"] = **url;
      }
    }
  }
  if (plan.net_ports)
    for (int port : PortsOfBaseUrls(urls))
      if (std::find(plan.net_ports->begin(), plan.net_ports->end(), port) == plan.net_ports->end())
        plan.net_ports->push_back(port);
  return plan;
}

}  // namespace pipeline
