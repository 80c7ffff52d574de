// The prompt file: a Markdown body under a frontmatter block of `key: value`
// lines between two `---` lines, as the seed scheduler writes it (values
// unquoted; we also accept single- or double-quoted values).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace pipeline {

struct PromptFile {
  // Known keys, typed. Empty values count as absent.
  std::optional<std::string> toolchain, workspace, provider, model, profile, run_id, task_id;
  std::optional<int64_t> max_iterations, max_cost_cents, timeout_s;
  // Keys we do not know, kept in order of appearance (callers warn about them).
  std::vector<std::pair<std::string, std::string>> unknown;
  std::string body;  // everything after the closing `---` line
};

// A text without a leading `---` line has no frontmatter: all of it is the
// body. kInvalidArgument (with the line number) for a block without its
// closing `---`, a line without ':', a duplicate key, or a non-numeric value
// for a numeric key.
Result<PromptFile> ParsePrompt(std::string_view text);
// kNotFound when the file is missing.
Result<PromptFile> ReadPromptFile(const std::string& path);

}  // namespace pipeline
