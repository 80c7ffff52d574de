// The check that makes a typo in .pipeline/config.toml an error instead of a
// silently ignored key: every table and key is looked up in ConfigSchema().
#pragma once

#include <toml++/toml.h>

#include <string>

#include "util/status.h"

namespace pipeline {

// The first unknown section or key, or key of the wrong type, as one line:
// "<origin>:<line>: unknown key verify.comand; did you mean command?".
// kInvalidArgument.
Status CheckConfigKeys(const toml::table& root, const std::string& origin);

}  // namespace pipeline
