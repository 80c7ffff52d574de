// The settings file, .pipeline/config.toml. Keys are addressed by dotted path
// ("scheduler.max_active", "profiles.claude-code.command"). A key that is
// present with the wrong type is an error naming the key, never a silent
// default, and so is a key or section the schema (config_schema.h) does not
// know: a typo never turns a setting off. Each subsystem reads its own keys.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace pipeline {

class Config {
 public:
  Config();  // empty: every key takes its default
  ~Config();
  Config(Config&&) noexcept;
  Config& operator=(Config&&) noexcept;

  // A missing file is an empty config; a malformed one is an error with
  // line:column, an unknown key or a key of the wrong type one with its line
  // and the nearest known name (kInvalidArgument).
  static Result<Config> Load(const std::string& path);
  static Result<Config> Parse(std::string_view text, const std::string& origin);
  // Another program's TOML (e.g. Codex's config.toml), read with the same
  // typed lookups but without pipeline's schema: its keys are not ours.
  static Result<Config> ParseAnyToml(std::string_view text, const std::string& origin);
  static Result<Config> LoadAnyToml(const std::string& path);

  Result<std::optional<int64_t>> Int(std::string_view key) const;
  Result<std::optional<double>> Double(std::string_view key) const;  // ints are accepted
  Result<std::optional<bool>> Bool(std::string_view key) const;
  Result<std::optional<std::string>> String(std::string_view key) const;
  Result<std::optional<std::vector<std::string>>> StringArray(std::string_view key) const;
  Result<std::optional<std::map<std::string, std::string>>> StringMap(std::string_view key) const;

  Result<int64_t> IntOr(std::string_view key, int64_t def) const;
  Result<double> DoubleOr(std::string_view key, double def) const;
  Result<bool> BoolOr(std::string_view key, bool def) const;
  Result<std::string> StringOr(std::string_view key, const std::string& def) const;

  // Names of the sub-tables (or keys) directly under a table ("profiles" -> ["claude-code", ...]).
  std::vector<std::string> Keys(std::string_view table) const;
  // Entries of an array of tables ("domain_rules"): each as a map of string values.
  Result<std::vector<std::map<std::string, std::string>>> TableArray(std::string_view key) const;
  bool Has(std::string_view key) const;

  const std::string& origin() const { return origin_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string origin_;
};

// The text `pipeline init` writes: every section, every key commented out with
// its default, the agent and the check to choose first. Made from ConfigSchema().
const char* DefaultConfigText();

}  // namespace pipeline
