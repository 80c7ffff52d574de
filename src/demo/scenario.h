// The demo's model script: what `pipeline model-stub` answers when the real
// Claude Code CLI works the demo backlog. It is built from the same task
// specs as the scripted agent (demo_backlog), so both agents make the same
// changes at the same prices, but here every change goes through Claude Code's
// own tools: Write for new files, Read then Edit for changes to existing ones,
// Bash for appends, commits and the question.
//
// Each task has a conversation picked by its "demo-script: KEY" marker; the
// later prompts of a task (after a failed verification, a merge conflict, or
// the person's answer) carry more text and are matched first by a conversation
// that lists that text too.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace pipeline::demo {

// The model the demo asks for; Claude Code prices usage at its list prices.
inline constexpr const char* kDemoClaudeModel = "claude-sonnet-4-5";

// The scenario file's JSON (docs/model-stub.md describes the format).
nlohmann::json DemoScenario();

// What Claude Code reports as total_cost_usd for a conversation's usage at
// kDemoClaudeModel's list prices, in cents (tests check the script's arithmetic).
double DemoScenarioCostCents(const nlohmann::json& conversation);

}  // namespace pipeline::demo
