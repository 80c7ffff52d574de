// Server-sent events as both APIs frame them: "event: NAME\ndata: JSON\n\n".
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace pipeline::stub {

inline void AppendSse(std::string* out, const std::string& event, const nlohmann::json& data) {
  out->append("event: ").append(event).append("\ndata: ").append(data.dump()).append("\n\n");
}

// A relative path joined to the agent's working directory (when known); the
// agents' file tools want absolute paths.
inline std::string ResolvePath(const std::string& cwd, const std::string& path) {
  if (path.empty() || path[0] == '/' || cwd.empty()) return path;
  return cwd + (cwd.back() == '/' ? "" : "/") + path;
}

}  // namespace pipeline::stub
