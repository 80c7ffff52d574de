// GET /metrics: the store's figures in the Prometheus text format (0.0.4):
// tasks by state, runs by phase and outcome, cost per domain (a counter:
// spent only grows), budget remaining (a gauge), queue lengths, and a
// histogram of check (verify and integrate run) durations.
#pragma once

#include <string>

#include "store/db.h"
#include "util/clock.h"
#include "util/status.h"

namespace pipeline::serve {

Result<std::string> MetricsText(Db& db, Clock& clock);

// A label value with \, " and newline escaped as the format requires.
std::string EscapeLabel(const std::string& v);

}  // namespace pipeline::serve
