// The one list of what .pipeline/config.toml may hold: every section, every
// key, its type, the value `pipeline init` shows for it and a one-line
// explanation. The file `pipeline init` writes (DefaultConfigText) and the
// check that refuses an unknown key (CheckConfigKeys) are both made from this
// table, so a key can be neither written without being accepted nor accepted
// without being documented. The subsystems still read their own keys (with
// their own defaults); config_schema_test checks the two agree.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pipeline {

enum class ConfigType {
  kInt,
  kNumber,       // an integer is accepted too
  kBool,
  kString,
  kStringArray,  // ["make", "test"]
  kStringTable,  // { K = "v" }
};

// "an integer", "a number", ...: for error messages.
const char* ConfigTypeName(ConfigType t);

struct ConfigKeySpec {
  std::string_view name;
  ConfigType type;
  // The value as TOML text, shown commented out by `pipeline init` (the
  // default, or for a choice an example). Empty: the key is not shown.
  std::string_view shown;
  std::string_view help;  // one line
};

struct ConfigSectionSpec {
  // Dotted path of the table; "*" is a segment any name fills
  // ("profiles.*": [profiles.my-agent]).
  std::string_view path;
  bool array_of_tables = false;  // [[domain_rules]]
  // For a "*" section: the name `pipeline init` uses in its commented example.
  std::string_view example_name;
  // Comment lines above the section (without "# "), '\n' separated.
  std::string_view help;
  std::vector<ConfigKeySpec> keys;
};

// Every section, in the order `pipeline init` writes them: the two choices a
// person must make (the agent, the check) first.
const std::vector<ConfigSectionSpec>& ConfigSchema();

// The known name closest to `name` (edit distance, letters swapped count
// once) when it is close enough to be a likely typo; else empty.
std::string NearestName(std::string_view name, const std::vector<std::string>& known);

}  // namespace pipeline
