// Server-sent events as both APIs frame them: "event: NAME\ndata: JSON\n\n".
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "util/text.h"

namespace pipeline::stub {

inline void AppendSse(std::string* out, const std::string& event, const nlohmann::json& data) {
  out->append("event: ").append(event).append("\ndata: ").append(data.dump()).append("\n\n");
}

// The (event, data) pairs of an SSE text, as AppendSse frames them (for
// checking what the stub sends).
inline std::vector<std::pair<std::string, nlohmann::json>> ParseSse(const std::string& sse) {
  std::vector<std::pair<std::string, nlohmann::json>> out;
  std::string event;
  for (const std::string& line : Split(sse, '\n')) {
    if (StartsWith(line, "event: ")) event = line.substr(7);
    if (StartsWith(line, "data: ")) out.emplace_back(event, nlohmann::json::parse(line.substr(6)));
  }
  return out;
}

// A relative path joined to the agent's working directory (when known); the
// agents' file tools want absolute paths.
inline std::string ResolvePath(const std::string& cwd, const std::string& path) {
  if (path.empty() || path[0] == '/' || cwd.empty()) return path;
  return cwd + (cwd.back() == '/' ? "" : "/") + path;
}

}  // namespace pipeline::stub
