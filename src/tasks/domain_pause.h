// Pausing a domain: a person stops new dev runs in one domain (its budget and
// its queued work are left as they are) until they resume it. The scheduler
// leaves a paused domain out of its candidate selection; runs already going
// finish normally. Each change is one transaction (Db::Write, which joins an
// outer one).
#pragma once

#include <set>
#include <string>

#include "store/db.h"
#include "util/clock.h"
#include "util/status.h"

namespace pipeline {

// A domain name as pause/resume accept it: one line of 1..200 bytes.
Status ValidateDomainName(const std::string& domain);

// Idempotent: pausing a paused domain keeps its first pause.
Status PauseDomain(Db& db, Clock& clock, const std::string& domain, const std::string& author);
// Idempotent: resuming a domain that is not paused changes nothing.
Status ResumeDomain(Db& db, const std::string& domain);
// Every paused domain.
Result<std::set<std::string>> PausedDomains(Db& db);

}  // namespace pipeline
