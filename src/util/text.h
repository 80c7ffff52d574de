// Small string functions shared by every subsystem. Nothing here knows about
// tasks or runs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pipeline {

// The seed's normalizeLabel: keep alphanumerics, lowercase ("In-Progress" -> "inprogress").
std::string NormalizeLabel(std::string_view s);

// The seed's slug: every non-alphanumeric byte becomes '-', lowercased, leading
// and trailing '-' stripped. Unlike the seed, non-ASCII bytes also become '-',
// so run ids stay ASCII.
std::string Slug(std::string_view s);

bool IsValidUtf8(std::string_view s);
std::string Trim(std::string_view s);
// CR and LF become spaces (for one-line comments and errors).
std::string SingleLine(std::string_view s);
// At most max_bytes, cut on a UTF-8 character boundary.
std::string TruncateUtf8(std::string_view s, size_t max_bytes);
// The last max_bytes of s, starting on a UTF-8 character boundary.
std::string TailUtf8(std::string_view s, size_t max_bytes);
std::vector<std::string> SplitWhitespace(std::string_view s);
std::vector<std::string> Split(std::string_view s, char sep);
// The parts with sep between them ({"make", "test"}, " " -> "make test").
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
bool StartsWith(std::string_view s, std::string_view prefix);

// Strict decimal integer: optional '-', digits only, no overflow.
std::optional<int64_t> ParseInt64(std::string_view s);

// Quote a value for display in a log or error message (never for a shell).
std::string Quoted(std::string_view s);

}  // namespace pipeline
