#include "agent/profile.h"

#include <cstdlib>
#include <sstream>

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
    p.credentials = {"~/.claude/.credentials.json"};
    p.pass_env = {"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "CLAUDE_CODE_OAUTH_TOKEN"};
    p.net_ports = std::vector<int>{443};
    p.command = {"claude", "-p", "{prompt}", "--output-format", "stream-json", "--verbose",
                 "--permission-mode", "acceptEdits", "--allowedTools", "Bash Edit Write Read",
                 "--max-turns", "{max_iter}", "--model", "{model}"};
  } else if (name == "codex") {
    p.reader = "codex";
    // Checked against Codex 0.169.0: the workspace-write sandbox keeps .git
    // read-only, so the agent could not commit; the run's worktree is the
    // boundary instead. The provider (account, base URL) is the user's own
    // Codex configuration (CODEX_HOME/config.toml), not ours to choose.
    p.credentials = {"~/.codex/auth.json", "~/.codex/config.toml"};
    p.pass_env = {"OPENAI_API_KEY", "OPENAI_BASE_URL"};
    p.net_ports = std::vector<int>{443};
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

Result<std::optional<std::vector<int>>> ParseNetPorts(const std::string& text) {
  std::string t = text;
  for (char& c : t)
    if (c == ',') c = ' ';
  std::vector<int> ports;
  std::istringstream in(t);
  std::string word;
  while (in >> word) {
    if (word == "any") return std::optional<std::vector<int>>();
    char* end = nullptr;
    long port = std::strtol(word.c_str(), &end, 10);
    if (*end != 0 || port < 1 || port > 65535)
      return InvalidArgument("net_ports: \"" + word + "\" is not a port (1..65535, or \"any\")");
    ports.push_back(static_cast<int>(port));
  }
  return std::optional<std::vector<int>>(ports);
}

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
  PL_ASSIGN_OR_RETURN(auto credentials, config.StringArray(base + ".credentials"));
  if (credentials) p.credentials = *credentials;
  PL_ASSIGN_OR_RETURN(auto pass_env, config.StringArray(base + ".pass_env"));
  if (pass_env) p.pass_env = *pass_env;
  PL_ASSIGN_OR_RETURN(auto ports, config.String(base + ".net_ports"));
  if (ports) {
    PL_ASSIGN_OR_RETURN(p.net_ports, ParseNetPorts(*ports));
  }
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
