// Diagnostics: every line pipeline writes to stderr for a person to read
// (errors, warnings, what the merge-queue worker is doing) goes through here,
// so they all look alike and each is exactly one line:
//
//   pipeline: <message>
//   pipeline: warning: <message>
//
// Not for a command's result (JSON, listings, the scheduler's event lines
// under --dry-run): that is stdout, and each command prints its own.
//
// Over fmt, not spdlog: fmt is linked already (pl_util), and `pipeline` is a
// short-lived process started many times a minute (agents call `pipeline
// task`, the scheduler starts a monitor per run), so its start-up must stay
// cheap; one write(2) per line needs no logger registry, sinks or threads,
// and leaving spdlog out takes a shared library off every start.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>

namespace pipeline {

// Writes text and a newline to stderr with one write(2), so lines from
// processes sharing a log file do not interleave. Trailing newlines are
// dropped and the ones inside become spaces: a diagnostic is one line.
void LogLine(std::string_view text);

// "pipeline: <message>".
template <typename... Args>
void Log(fmt::format_string<Args...> format, Args&&... args) {
  LogLine("pipeline: " + fmt::format(format, std::forward<Args>(args)...));
}

// "pipeline: warning: <message>".
template <typename... Args>
void LogWarning(fmt::format_string<Args...> format, Args&&... args) {
  LogLine("pipeline: warning: " + fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace pipeline
