#include "serve/reply.h"

namespace pipeline::serve {

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
}

Reply JsonReply(const nlohmann::json& j, int status) { return Reply{status, DumpJson(j) + "\n"}; }

Reply ErrorReply(int status, const std::string& message) {
  std::string one_line = message;
  for (char& c : one_line)
    if (c == '\n' || c == '\r') c = ' ';
  return JsonReply(nlohmann::json{{"error", one_line}}, status);
}

int HttpStatusFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument: return 400;
    case ErrorKind::kNotFound: return 404;
    case ErrorKind::kRefused:
    case ErrorKind::kConflict: return 409;
    case ErrorKind::kTimeout: return 504;
    case ErrorKind::kUnavailable: return 503;
    default: return 500;
  }
}

Reply ErrorReply(const Error& e) { return ErrorReply(HttpStatusFor(e.kind), e.message); }

}  // namespace pipeline::serve
