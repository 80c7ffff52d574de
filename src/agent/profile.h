// Agent profiles: how to start one kind of agent (an argv template), what to
// add to its environment, and which reader understands its output. Built-ins:
// claude-code, codex, command; `[profiles.NAME]` in config.toml adds or
// overrides (command = [...], reader = "...", env = { K = "v" }).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "util/status.h"

namespace pipeline {

struct Profile {
  std::string name;
  std::vector<std::string> command;  // template; see ExpandCommand
  std::string reader;                // "claude-code" | "codex" | "command"
  std::map<std::string, std::string> env;
  // Confinement (see docs/security.md): the credentials the agent keeps
  // reading (files, "~" = the person's home; they appear read-only in the
  // run's home), the variables passed through from the monitor's environment,
  // and the TCP ports it may connect to (nullopt: any). profiles.NAME.credentials,
  // .pass_env (arrays of strings), .net_ports ("443, 8080"; "any"; "" for none).
  std::vector<std::string> credentials;
  std::vector<std::string> pass_env;
  std::optional<std::vector<int>> net_ports;
};

// The built-in profile named name merged with its config section. A profile
// without a command (the built-in `command` profile has none) is an error
// that says what to configure. kInvalidArgument for an unknown name.
Result<Profile> LoadProfile(const Config& config, const std::string& name);
// "443, 8080" -> {443, 8080}; "any" -> nullopt (unrestricted); "" -> {} (no TCP).
Result<std::optional<std::vector<int>>> ParseNetPorts(const std::string& text);
// config agent.profile, else "command".
Result<std::string> DefaultProfileName(const Config& config);

struct Substitutions {
  std::string prompt_file, prompt, workspace, run_id;
  std::optional<std::string> model;
  std::optional<int64_t> max_iter;
};

// Replaces {prompt_file} {prompt} {workspace} {model} {max_iter} {run_id} in
// each element separately (never through a shell). An element that names
// {model} or {max_iter} when that value is absent is dropped, together with
// the option right before it when that one starts with '-' ("--model",
// "{model}" both vanish). Other braces are left as they are.
std::vector<std::string> ExpandCommand(const std::vector<std::string>& tmpl, const Substitutions& subs);

// The environment that points Claude Code (checked with 2.1.332) at a model
// server of our choosing, e.g. `pipeline model-stub`, with a private home so
// that nothing of the user's own settings or credentials is read or written,
// no update or telemetry traffic, and two retries instead of ten.
std::map<std::string, std::string> ClaudeCodeEnvForModelServer(const std::string& base_url, const std::string& home);
// A profile's env written as a config.toml inline table: { K = "v", ... }.
std::string EnvAsTomlInlineTable(const std::map<std::string, std::string>& env);

}  // namespace pipeline
