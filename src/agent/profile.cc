#include "agent/profile.h"

#include <nlohmann/json.hpp>

#include "agent/output_reader.h"

namespace pipeline {
namespace {

Profile BuiltIn(const std::string& name) {
  Profile p;
  p.name = name;
  p.reader = "command";
  if (name == "claude-code") {
    p.reader = "claude-code";
    // Checked against Claude Code 2.1.332: --dangerously-skip-permissions is
    // refused as root, while acceptEdits with these allowed tools runs Bash,
    // Edit, Write and Read without asking. Without --model it picks its own
    // default, so a run without a model simply omits the option.
    p.command = {"claude", "-p", "{prompt}", "--output-format", "stream-json", "--verbose",
                 "--permission-mode", "acceptEdits", "--allowedTools", "Bash Edit Write Read",
                 "--max-turns", "{max_iter}", "--model", "{model}"};
  } else if (name == "codex") {
    p.reader = "codex";
    // Checked against Codex 0.169.0: the workspace-write sandbox keeps .git
    // read-only, so the agent could not commit; the run's worktree is the
    // boundary instead. The provider (account, base URL) is the user's own
    // Codex configuration (CODEX_HOME/config.toml), not ours to choose.
    p.command = {"codex", "exec", "--json", "--skip-git-repo-check", "--sandbox", "danger-full-access",
                 "-m", "{model}", "{prompt}"};
  }
  return p;
}

// One pass over the element, so a value that itself contains "{run_id}" (a
// prompt may) is never substituted again.
std::string Substitute(const std::string& el, const Substitutions& subs) {
  const std::pair<const char*, std::optional<std::string>> vars[] = {
      {"{prompt_file}", subs.prompt_file},
      {"{prompt}", subs.prompt},
      {"{workspace}", subs.workspace},
      {"{run_id}", subs.run_id},
      {"{model}", subs.model},
      {"{max_iter}", subs.max_iter ? std::optional<std::string>(std::to_string(*subs.max_iter)) : std::nullopt},
  };
  std::string out;
  size_t i = 0;
  while (i < el.size()) {
    bool replaced = false;
    if (el[i] == '{') {
      for (const auto& [name, value] : vars) {
        std::string_view n(name);
        if (value && el.compare(i, n.size(), n) == 0) {
          out += *value;
          i += n.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out.push_back(el[i++]);
  }
  return out;
}

}  // namespace

Result<std::string> DefaultProfileName(const Config& config) { return config.StringOr("agent.profile", "command"); }

Result<Profile> LoadProfile(const Config& config, const std::string& name) {
  bool builtin = name == "claude-code" || name == "codex" || name == "command";
  std::string base = "profiles.\"" + name + "\"";
  if (!builtin && !config.Has(base))
    return InvalidArgument("unknown agent profile " + name + " (built-in: claude-code, codex, command; or add [profiles." +
                           name + "] to " + config.origin() + ")");
  Profile p = BuiltIn(name);
  PL_ASSIGN_OR_RETURN(auto command, config.StringArray(base + ".command"));
  if (command) p.command = *command;
  PL_ASSIGN_OR_RETURN(auto reader, config.String(base + ".reader"));
  if (reader) p.reader = *reader;
  PL_ASSIGN_OR_RETURN(auto env, config.StringMap(base + ".env"));
  if (env) p.env = *env;
  if (!IsKnownReader(p.reader))
    return InvalidArgument(config.origin() + ": profiles." + name + ".reader must be claude-code, codex or command");
  if (p.command.empty() || p.command[0].empty())
    return InvalidArgument("agent profile " + name + " has no command: set [profiles." + name +
                           "] command = [\"prog\", \"{prompt_file}\"] in " + config.origin() +
                           ", or choose another profile (agent.profile, or profile: in the prompt)");
  return p;
}

std::vector<std::string> ExpandCommand(const std::vector<std::string>& tmpl, const Substitutions& subs) {
  std::vector<std::string> out;
  for (const std::string& el : tmpl) {
    bool missing = (!subs.model && el.find("{model}") != std::string::npos) ||
                   (!subs.max_iter && el.find("{max_iter}") != std::string::npos);
    if (missing) {
      if (!out.empty() && !out.back().empty() && out.back()[0] == '-') out.pop_back();
      continue;
    }
    out.push_back(Substitute(el, subs));
  }
  return out;
}

std::map<std::string, std::string> ClaudeCodeEnvForModelServer(const std::string& base_url, const std::string& home) {
  return {{"ANTHROPIC_BASE_URL", base_url},
          {"ANTHROPIC_API_KEY", "stub-key"},
          {"HOME", home},
          {"CLAUDE_CONFIG_DIR", home + "/.claude"},
          {"DISABLE_AUTOUPDATER", "1"},
          {"DISABLE_TELEMETRY", "1"},
          {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"},
          {"CLAUDE_CODE_MAX_RETRIES", "2"}};
}

std::string EnvAsTomlInlineTable(const std::map<std::string, std::string>& env) {
  if (env.empty()) return "{}";
  std::string out;
  for (const auto& [k, v] : env) out += (out.empty() ? "{ " : ", ") + k + " = " + nlohmann::json(v).dump();
  return out + " }";
}

}  // namespace pipeline
