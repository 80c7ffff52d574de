// The one way a confined run talks to pipeline: a unix socket the run's
// monitor listens on, in the run's private directory (the only one mounted
// in that run's sandbox, so whoever connects is that run: identity comes
// from where the socket is reachable, never from an environment variable).
// One JSON request line, one JSON reply line per connection.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace pipeline {

class RunChannelServer {
 public:
  using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;
  RunChannelServer() = default;
  ~RunChannelServer();
  RunChannelServer(const RunChannelServer&) = delete;
  RunChannelServer& operator=(const RunChannelServer&) = delete;

  // Binds and listens at path (any length; an old socket there is replaced).
  Status Listen(const std::string& path);
  int fd() const { return fd_; }
  // Serves every pending connection (call when fd() is readable).
  void ServePending(const Handler& handler);

 private:
  int fd_ = -1;
  std::string path_;
};

// Sends request to the socket at path and returns the reply object.
Result<nlohmann::json> AskRunChannel(const std::string& path, const nlohmann::json& request);

}  // namespace pipeline
