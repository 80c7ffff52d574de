#include "tasks/domain_pause.h"

#include "tasks/task.h"

namespace pipeline {

Status ValidateDomainName(const std::string& domain) {
  if (domain.size() > 200) return InvalidArgument("domain name longer than 200 bytes");
  return ValidateLine("domain", domain);
}

Status PauseDomain(Db& db, Clock& clock, const std::string& domain, const std::string& author) {
  PL_RETURN_IF_ERROR(ValidateDomainName(domain));
  PL_RETURN_IF_ERROR(ValidateAuthor(author));
  return db.Write([&]() -> Status {
    Stmt& s = db.Cached("INSERT OR IGNORE INTO domain_pauses (domain, paused_at, paused_by) VALUES (?, ?, ?)");
    s.BindAll(domain, clock.Now(), author);
    return s.Run();
  });
}

Status ResumeDomain(Db& db, const std::string& domain) {
  PL_RETURN_IF_ERROR(ValidateDomainName(domain));
  return db.Write([&]() -> Status {
    Stmt& s = db.Cached("DELETE FROM domain_pauses WHERE domain = ?");
    s.BindAll(domain);
    return s.Run();
  });
}

Result<std::set<std::string>> PausedDomains(Db& db) {
  Stmt& s = db.Cached("SELECT domain FROM domain_pauses");
  PL_ASSIGN_OR_RETURN(auto rows, s.TextColumn());
  return std::set<std::string>(rows.begin(), rows.end());
}

}  // namespace pipeline
