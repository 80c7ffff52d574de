// The schema of .pipeline/config.toml and the file `pipeline init` writes
// from it. A new key is added here, read by its subsystem, and explained in
// docs/configuration.md (config_schema_test and the e2e docs test check the
// three agree).
#include <algorithm>

#include "config/config.h"
#include "config/config_schema.h"

namespace pipeline {

const char* ConfigTypeName(ConfigType t) {
  switch (t) {
    case ConfigType::kInt: return "an integer";
    case ConfigType::kNumber: return "a number";
    case ConfigType::kBool: return "true or false";
    case ConfigType::kString: return "a string";
    case ConfigType::kStringArray: return "an array of strings";
    case ConfigType::kStringTable: return "a table of strings";
  }
  return "?";
}

const std::vector<ConfigSectionSpec>& ConfigSchema() {
  using T = ConfigType;
  static const std::vector<ConfigSectionSpec> kSchema = {
      {"agent", false, "",
       "CHOOSE the agent before the first `pipeline run` (it refuses to start without one):\n"
       "a built-in profile (claude-code, codex) or one of your own under [profiles.NAME].",
       {
           {"profile", T::kString, "\"claude-code\"", "claude-code | codex | a [profiles.NAME] below"},
           {"timeout_s", T::kInt, "1800", "seconds before a run is stopped"},
           {"max_iter", T::kInt, "80", "agent iterations per run"},
           {"log_cap_bytes", T::kInt, "8388608", "per stream; the middle of a larger log is dropped"},
           {"kill_grace_ms", T::kInt, "3000", "SIGTERM, then SIGKILL after this"},
       }},
      {"verify", false, "",
       "CHOOSE the check every patchset must pass before it is merged: an argv run in the\n"
       "task's worktree (never through a shell). `command = []` switches verification off;\n"
       "`pipeline run` refuses to start until one or the other is written here.",
       {
           {"command", T::kStringArray, "[\"make\", \"test\"]", "{namespace} and {domain} are replaced"},
           {"timeout_s", T::kInt, "1800", "seconds before the check is stopped"},
       }},
      {"verify.domains.*", false, "docs", "A domain's own check ([] switches checks off there).",
       {
           {"command", T::kStringArray, "[\"sh\", \"scripts/check-docs.sh\"]", "instead of verify.command"},
           {"timeout_s", T::kInt, "600", "instead of verify.timeout_s"},
       }},
      {"fund", false, "", "Budgets: see docs/cli-fund.md.",
       {
           {"default_budget_cents", T::kInt, "0",
            "budget of a domain the first time it is seen (0: none until `fund grant`)"},
       }},
      {"scheduler", false, "", "How `pipeline run` works the backlog: see docs/scheduler.md.",
       {
           {"max_active", T::kInt, "8", "dev runs at once, all domains together"},
           {"domain_max_active", T::kInt, "1", "dev runs at once per domain ([domains.\"D\"] overrides)"},
           {"reserve_cents", T::kInt, "300", "hold taken on the domain's budget for each run"},
           {"max_cost_cents", T::kInt, "300", "a run is stopped past this (default: reserve_cents)"},
           {"max_retries", T::kInt, "3", "failed runs per patchset before needs-help"},
           {"max_patchsets", T::kInt, "10", "rejected patchsets (verify/integration) before needs-help"},
           {"max_task_cost_cents", T::kInt, "1200",
            "spent on one task before needs-help (default: 4 x reserve_cents; 0: no cap)"},
           {"backoff_base_s", T::kInt, "30", "wait after a failed run or a rejected patchset: min(600, base * 2^n)"},
           {"integrate_retry_s", T::kInt, "5", "merge-queue retry after \"waiting\" or a crashed worker"},
           {"interval_s", T::kNumber, "60", "fallback poll, only for external task/fund/agentd backends"},
           {"external_timeout_s", T::kInt, "30", "deadline of every call to an external task/fund/agentd"},
           {"after_run", T::kString, "\"verify\"", "or \"review\": every finished dev run waits for a person"},
           {"workspace", T::kString, "\"worktree\"", "or \"shared\": runs work in the repository itself"},
           {"base", T::kString, "\"\"", "branch to integrate into (default: the current branch)"},
           {"profile", T::kString, "\"\"", "agent profile of dev runs (default: agent.profile)"},
           {"model", T::kString, "\"\"", "model of dev runs (default: the agent's own)"},
           {"provider", T::kString, "\"\"", "written into the prompt's frontmatter when set"},
           {"toolchain", T::kString, "\"\"", "written into the prompt's frontmatter when set"},
           {"timeout_s", T::kInt, "1800", "seconds before a dev run is stopped (default: agent.timeout_s)"},
           {"max_iter", T::kInt, "80", "agent iterations per dev run (default: agent.max_iter)"},
       }},
      {"domains.*", false, "src/api", "A domain's own limits.",
       {
           {"max_active", T::kInt, "2", "dev runs at once in this domain"},
       }},
      {"domain_rules", true, "", "Namespace -> domain; the first matching glob wins (default: the namespace).",
       {
           {"match", T::kString, "\"src/api/*\"", "fnmatch glob over the task's namespace"},
           {"domain", T::kString, "\"src/api\"", "the domain it belongs to"},
       }},
      {"review", false, "", "",
       {
           {"required", T::kBool, "false", "true: verified work waits for `pipeline task approve`"},
       }},
      {"integrate", false, "", "",
       {
           {"mode", T::kString, "\"squash\"", "one verified commit per task, or \"merge\": that commit merged"},
           {"batch_max", T::kInt, "8", "verified changes merged and checked together (1: one at a time)"},
           {"parallel", T::kInt, "4", "checks at once while a red batch is searched (3 or more: every failing change at once)"},
           {"branch_check", T::kString, "\"always\"", "or \"never\": only the merge result is checked"},
           {"base_recheck_s", T::kInt, "300", "a base that fails its check is checked again this often"},
       }},
      {"profiles.*", false, "my-agent", "Any program as an agent: see docs/cli-agent.md.",
       {
           {"command", T::kStringArray, "[\"my-agent\", \"--prompt-file\", \"{prompt_file}\", \"--cwd\", \"{workspace}\"]",
            "argv; {prompt_file} {prompt} {workspace} {model} {max_iter} {run_id}"},
           {"reader", T::kString, "\"command\"", "claude-code | codex | command: how its output is read"},
           {"env", T::kStringTable, "{ MY_AGENT_MODE = \"batch\" }", "added to its environment"},
           {"credentials", T::kStringArray, "[\"~/.my-agent/token\"]", "files shown read-only in a confined run's home"},
           {"pass_env", T::kStringArray, "[\"MY_AGENT_API_KEY\"]", "variables passed into a confined run"},
           {"net_ports", T::kString, "\"443\"", "TCP ports a confined run may connect to (\"any\": unrestricted)"},
       }},
      {"sandbox", false, "", "Agent runs are confined (docs/security.md): bubblewrap, then Landlock.",
       {
           {"enabled", T::kBool, "true", "false: runs are not confined (said at every start)"},
           {"off", T::kStringArray, "[]", "protections to go without: filesystem, processes, network, memory"},
           {"read_deny", T::kStringArray, "[\"~/.ssh\", \"~/.aws\", \"~/.config/gh\", \"~/.netrc\"]",
            "hidden from every run (the default list is longer: docs/security.md)"},
           {"read_deny_extra", T::kStringArray, "[]", "added to read_deny"},
           {"memory_limit_mb", T::kInt, "8192", "per run, children included; 0: none"},
           {"min_free_mb", T::kInt, "1024", "memory kept free when a run starts"},
       }},
      {"notify", false, "", "",
       {
           {"command", T::kStringArray, "[\"notify-send-json\"]",
            "run by `pipeline serve` when a task needs a person; JSON on stdin (docs/serve.md)"},
       }},
      {"executor", false, "", "Where runs execute: docs/slurm.md.",
       {
           {"kind", T::kString, "\"local\"", "or \"slurm\": every dev and verify run is a batch job"},
       }},
      {"executor.slurm", false, "", "",
       {
           {"shared_dir", T::kString, "\"/shared/pipeline\"", "reachable from every node (default .pipeline/cluster)"},
           {"partition", T::kString, "\"agents\"", "dev runs (default: the cluster's default)"},
           {"check_partition", T::kString, "\"checks\"", "verify runs (default: partition)"},
           {"account", T::kString, "\"\"", "--account"},
           {"time_limit_minutes", T::kInt, "60", "--time"},
           {"cpus", T::kInt, "2", "--cpus-per-task"},
           {"mem_mb", T::kInt, "4096", "--mem"},
           {"slurm_conf", T::kString, "\"\"", "SLURM_CONF for every Slurm command"},
           {"poll_ms", T::kInt, "500", "how often results are looked for (the queue: at most once a second)"},
       }},
      {"executor.slurm.domains.*", false, "src/gpu", "A domain's own job settings (over the [executor.slurm] ones).",
       {
           {"partition", T::kString, "\"gpu\"", "dev runs of this domain"},
           {"check_partition", T::kString, "\"gpu-checks\"", "verify runs of this domain"},
           {"account", T::kString, "\"team-gpu\"", "--account"},
           {"time_limit_minutes", T::kInt, "120", "--time"},
           {"cpus", T::kInt, "4", "--cpus-per-task"},
           {"mem_mb", T::kInt, "16384", "--mem"},
       }},
      {"executor.slurm.profiles.*", false, "codex", "A profile's own job settings for its dev runs (over the domain's).",
       {
           {"partition", T::kString, "\"agents-large\"", "dev runs with this profile"},
           {"account", T::kString, "\"team-a\"", "--account"},
           {"time_limit_minutes", T::kInt, "90", "--time"},
           {"cpus", T::kInt, "1", "--cpus-per-task"},
           {"mem_mb", T::kInt, "2048", "--mem"},
       }},
      {"pricing.*", false, "gpt-5", "USD per million tokens, for the running cost of a model.",
       {
           {"input_usd_per_mtok", T::kNumber, "1.25", ""},
           {"output_usd_per_mtok", T::kNumber, "10.0", ""},
           {"cache_read_usd_per_mtok", T::kNumber, "0.125", ""},
           {"cache_write_usd_per_mtok", T::kNumber, "0.0", ""},
       }},
  };
  return kSchema;
}

namespace {

// Optimal string alignment distance: insertions, deletions, substitutions
// and swaps of neighbours each cost one.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::string Pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

void AppendComment(std::string* out, std::string_view text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    *out += "# " + std::string(text.substr(start, nl - start)) + "\n";
    start = nl + 1;
  }
}

std::string QuotedIfNeeded(std::string_view name) {
  for (char c : name)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return "\"" + std::string(name) + "\"";
  return std::string(name);
}

}  // namespace

std::string NearestName(std::string_view name, const std::vector<std::string>& known) {
  std::string best;
  size_t best_d = std::string::npos;
  for (const auto& k : known) {
    size_t d = EditDistance(name, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  // A typo, not another word: at most a third of the longer name differs.
  size_t limit = std::max<size_t>(1, std::max(name.size(), best.size()) / 3);
  return best_d <= limit ? best : std::string();
}

// Every key, commented out. Fixed sections keep their header so that
// uncommenting a key is all it takes; named sections ([profiles.NAME]) are
// whole commented examples.
const char* DefaultConfigText() {
  static const std::string kText = [] {
    std::string out =
        "# pipeline configuration. Every key is shown commented out with its default\n"
        "# (or, for the two choices below, an example). docs/configuration.md explains\n"
        "# each; `pipeline doctor` says what is still missing before `pipeline run`.\n";
    for (const auto& sec : ConfigSchema()) {
      out += "\n";
      if (!sec.help.empty()) AppendComment(&out, sec.help);
      std::string path(sec.path);
      bool example = path.find('*') != std::string::npos || sec.array_of_tables;
      if (auto star = path.find('*'); star != std::string::npos)
        path.replace(star, 1, QuotedIfNeeded(sec.example_name));
      std::string header = sec.array_of_tables ? "[[" + path + "]]" : "[" + path + "]";
      out += (example ? "# " : "") + header + "\n";
      for (const auto& k : sec.keys) {
        if (k.shown.empty()) continue;
        std::string line = "# " + std::string(k.name) + " = " + std::string(k.shown);
        if (!k.help.empty()) line = Pad(line, 28) + "  # " + std::string(k.help);
        out += line + "\n";
      }
    }
    return out;
  }();
  return kText.c_str();
}

}  // namespace pipeline
