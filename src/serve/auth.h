// Who may do what through `pipeline serve`.
//
// - Listening on loopback, reads are open to the machine's users; a write
//   must carry either the token or the header `X-Pipeline-Request: 1`. A
//   cross-site page cannot send a custom header without a CORS preflight,
//   which this server never grants, so a browser tab on another site cannot
//   steer the pipeline; no authority rides on cookies.
// - Listening beyond loopback, every request needs the token
//   (`Authorization: Bearer <token>`; a GET may pass it as `?token=` because
//   EventSource cannot set headers). Writes need the header form.
// - The Host header must name the address served (or localhost), which
//   defeats DNS rebinding of a loopback server.
//
// The token lives in .pipeline/serve-token (mode 0600), created on first use.
#pragma once

#include <string>

#include "util/status.h"

namespace pipeline::serve {

struct AuthPolicy {
  bool loopback = true;
  std::string token;
  std::string host;  // the address listened on
  int port = 0;
};

struct RequestFacts {
  bool write = false;               // anything but GET / HEAD
  std::string authorization;        // the Authorization header
  std::string query_token;          // ?token=
  std::string custom_header;        // X-Pipeline-Request
  std::string host_header;          // Host
};

// Ok, or kRefused (HTTP 401/403) with the reason.
Status CheckRequest(const AuthPolicy& policy, const RequestFacts& req);

// Reads the token file, creating it (32 random bytes, hex, mode 0600) when it
// does not exist. Refuses a file readable by group or others.
Result<std::string> LoadOrCreateToken(const std::string& path);

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackAddress(const std::string& host);

// Constant-time comparison (the token must not leak through timing).
bool SameSecret(const std::string& a, const std::string& b);

}  // namespace pipeline::serve
