// What an API handler answers: a status code and a body. Handlers are plain
// functions of the store and the request's values, so they are tested
// without HTTP; the server copies a Reply onto the wire.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace pipeline::serve {

struct Reply {
  int status = 200;
  std::string body;
  // With the charset named, the HTTP library leaves the body uncompressed: it
  // would answer a browser (Accept-Encoding: br) with Brotli at its slowest
  // setting, 16 s for the 2 MB task list of a 10,000-task store.
  std::string content_type = "application/json; charset=utf-8";
};

// The JSON document (ASCII, invalid UTF-8 replaced) as a reply.
Reply JsonReply(const nlohmann::json& j, int status = 200);
// One line: {"error": "..."}.
Reply ErrorReply(int status, const std::string& message);
// The error with the HTTP status of its kind: invalid argument 400, not found
// 404, refused / conflict 409, timeout 504, unavailable 503, otherwise 500.
Reply ErrorReply(const Error& e);
int HttpStatusFor(ErrorKind kind);

// JSON text without throwing on invalid UTF-8 (replaced by U+FFFD).
std::string DumpJson(const nlohmann::json& j);

}  // namespace pipeline::serve
