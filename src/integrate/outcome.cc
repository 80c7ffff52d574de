#include "integrate/outcome.h"

namespace pipeline {

const char* OutcomeName(IntegrateOutcome::Kind k) {
  switch (k) {
    case IntegrateOutcome::Kind::kIntegrated: return "integrated";
    case IntegrateOutcome::Kind::kConflict: return "conflict";
    case IntegrateOutcome::Kind::kCheckFailed: return "check-failed";
    case IntegrateOutcome::Kind::kBaseMoved: return "base-moved";
    case IntegrateOutcome::Kind::kEmpty: return "empty";
    case IntegrateOutcome::Kind::kWaiting: return "waiting";
    case IntegrateOutcome::Kind::kError: return "error";
  }
  return "error";
}

IntegrateOutcome IntegrateOutcome::Integrated(std::string commit, bool already) {
  IntegrateOutcome o;
  o.kind = Kind::kIntegrated;
  o.commit = std::move(commit);
  o.already = already;
  return o;
}

IntegrateOutcome IntegrateOutcome::Waiting(std::string reason) {
  IntegrateOutcome o;
  o.kind = Kind::kWaiting;
  o.reason = std::move(reason);
  return o;
}

IntegrateOutcome IntegrateOutcome::Empty(std::string reason) {
  IntegrateOutcome o;
  o.kind = Kind::kEmpty;
  o.reason = std::move(reason);
  return o;
}

IntegrateOutcome IntegrateOutcome::Failed(const Error& e) {
  IntegrateOutcome o;
  o.kind = Kind::kError;
  o.reason = e.message;
  o.error_kind = e.kind;
  return o;
}

nlohmann::json IntegrateOutcome::ToJson() const {
  nlohmann::json j = {{"outcome", OutcomeName(kind)}};
  switch (kind) {
    case Kind::kIntegrated:
      j["commit"] = commit;
      if (already) j["already"] = true;
      if (!warning.empty()) j["warning"] = warning;
      break;
    case Kind::kConflict: j["files"] = files; break;
    case Kind::kCheckFailed:
      j["output_tail"] = output_tail;
      j["timed_out"] = timed_out;
      break;
    case Kind::kBaseMoved: break;
    case Kind::kEmpty:
    case Kind::kWaiting: j["reason"] = reason; break;
    case Kind::kError: j["message"] = reason; break;
  }
  return j;
}

int IntegrateOutcome::ExitCode() const {
  switch (kind) {
    case Kind::kIntegrated: return 0;
    case Kind::kWaiting: return kExitWaiting;
    case Kind::kError: return ExitCodeFor(error_kind);
    default: return 1;
  }
}

}  // namespace pipeline
