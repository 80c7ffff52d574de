// The full-screen form of a status snapshot (`pipeline status --watch` on a
// terminal): what fits in width x height, most important first. A pure
// function of the snapshot, so it is tested at fixed sizes without a
// terminal.
//
//   line 1  scheduler running (pid) or not, time, root
//   line 2  task counts (with ready, as `pipeline task ready` counts)
//   line 3  budgets per domain
//   line 4  only when a sandbox protection is off: which one
//   then sections, each trimmed to what fits (with "… N more"):
//     Running      the active runs
//     Attention    questions (needs-help), review, waiting integrations, failures
//     Waiting      every other waiting task with its reason
//     Events       the latest events, one line each
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace pipeline {

// At most `height` lines, each at most `width` columns (a code point is
// taken as one column; control characters become spaces; cut lines end
// with "…"). No line ends with a newline.
std::vector<std::string> RenderStatusScreen(const nlohmann::json& snapshot, int width, int height);

// s as one line of at most width columns, cut on a UTF-8 boundary.
std::string FitToWidth(std::string_view s, int width);
// Columns s takes (code points; an invalid byte counts one).
int DisplayWidth(std::string_view s);

}  // namespace pipeline
