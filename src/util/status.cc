#include "util/status.h"

namespace pipeline {

int ExitCodeFor(ErrorKind kind) { return kind == ErrorKind::kInvalidArgument ? 2 : 1; }

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument: return "invalid-argument";
    case ErrorKind::kNotFound: return "not-found";
    case ErrorKind::kRefused: return "refused";
    case ErrorKind::kConflict: return "conflict";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kIO: return "io";
    case ErrorKind::kUnavailable: return "unavailable";
  }
  return "unknown";
}

}  // namespace pipeline
