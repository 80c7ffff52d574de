// The ledger's state changes. Each public method is one Db::Write; the
// checks and the change it guards happen in that same transaction, so two
// processes reserving at once cannot both take the last cents.
#include "ledger/ledger.h"

#include "util/text.h"

namespace pipeline {

Ledger::Ledger(Db& db, Clock& clock, int64_t default_budget_cents)
    : db_(db), clock_(clock), default_budget_cents_(default_budget_cents) {}

Status Ledger::EnsureDomain(const std::string& domain) {
  Micros now = clock_.Now();
  return db_.Cached("INSERT OR IGNORE INTO domains (domain, budget_cents, overrun_blocked, created_at, updated_at) "
                    "VALUES (?, ?, 0, ?, ?)")
      .BindAll(domain, default_budget_cents_, now, now)
      .Run();
}

Status Ledger::InsertSpend(const std::string& domain, const std::optional<std::string>& run_id,
                           const std::optional<std::string>& task_id, int64_t cents, const char* note) {
  Stmt& s = db_.Cached(
      "INSERT INTO ledger (domain, kind, cents, run_id, task_id, note, created_at) VALUES (?, 'spend', ?, ?, ?, ?, ?)");
  s.BindAll(domain, cents, run_id, task_id);
  if (note) s.Bind(5, note); else s.BindNull(5);
  s.Bind(6, clock_.Now());
  return s.Run();
}

Status Ledger::Block(const std::string& domain) {
  return db_.Cached("UPDATE domains SET overrun_blocked = 1, updated_at = ? WHERE domain = ?")
      .BindAll(clock_.Now(), domain)
      .Run();
}

Status Ledger::ChangeBudget(const std::string& domain, int64_t cents, bool add) {
  PL_RETURN_IF_ERROR(ValidateName(domain, "domain"));
  PL_RETURN_IF_ERROR(CheckCents(cents, "cents"));
  return db_.Write([&]() -> Status {
    PL_RETURN_IF_ERROR(EnsureDomain(domain));
    PL_ASSIGN_OR_RETURN(auto row, LoadDomain(domain));
    int64_t budget = add ? row->budget_cents + cents : cents;  // both <= kMaxCents: no overflow
    if (budget > kMaxCents)
      return InvalidArgument("budget of " + Quoted(domain) + " would exceed " + std::to_string(kMaxCents) + " cents");
    Micros now = clock_.Now();
    PL_RETURN_IF_ERROR(
        db_.Cached("UPDATE domains SET budget_cents = ?, overrun_blocked = 0, updated_at = ? WHERE domain = ?")
            .BindAll(budget, now, domain)
            .Run());
    return db_.Cached("INSERT INTO ledger (domain, kind, cents, created_at) VALUES (?, ?, ?, ?)")
        .BindAll(domain, add ? "grant" : "set", cents, now)
        .Run();
  });
}

Status Ledger::Grant(const std::string& domain, int64_t cents) { return ChangeBudget(domain, cents, true); }
Status Ledger::SetBudget(const std::string& domain, int64_t cents) { return ChangeBudget(domain, cents, false); }

Status Ledger::Reserve(const std::string& domain, const std::string& run_id, const std::optional<std::string>& task_id,
                       int64_t cents) {
  PL_RETURN_IF_ERROR(ValidateName(domain, "domain"));
  PL_RETURN_IF_ERROR(ValidateName(run_id, "run id"));
  if (task_id) PL_RETURN_IF_ERROR(ValidateName(*task_id, "task id"));
  PL_RETURN_IF_ERROR(CheckCents(cents, "cents"));
  return db_.Write([&]() -> Status {
    PL_ASSIGN_OR_RETURN(auto hold, Hold(run_id));
    if (hold) {
      if (hold->domain != domain)
        return Conflict("run " + Quoted(run_id) + " already holds budget in domain " + Quoted(hold->domain));
      if (hold->state != "held") return Refused("run " + Quoted(run_id) + " was already " + hold->state);
      return Status::Ok();  // the existing hold stands
    }
    PL_ASSIGN_OR_RETURN(auto spent, ExistingSpend(run_id));
    if (spent) return Refused("run " + Quoted(run_id) + " already has a spend; a run id is reserved once");
    PL_RETURN_IF_ERROR(EnsureDomain(domain));
    PL_ASSIGN_OR_RETURN(DomainReport f, Figures(domain));
    if (f.overrun_blocked)
      return Refused("domain " + Quoted(domain) + " is blocked by an overrun; `fund grant` or `fund set` unblocks it");
    if (f.remaining_cents < cents)
      return Refused("domain " + Quoted(domain) + " has " + std::to_string(f.remaining_cents) + " cents left, " +
                     std::to_string(cents) + " requested");
    return db_.Cached("INSERT INTO holds (run_id, domain, task_id, cents, state, created_at) VALUES (?, ?, ?, ?, 'held', ?)")
        .BindAll(run_id, domain, task_id, cents, clock_.Now())
        .Run();
  });
}

Result<SettleResult> Ledger::Settle(const std::string& run_id, int64_t actual_cents) {
  PL_RETURN_IF_ERROR(ValidateName(run_id, "run id"));
  PL_RETURN_IF_ERROR(CheckCents(actual_cents, "cents"));
  SettleResult out;
  Status st = db_.Write([&]() -> Status {
    PL_ASSIGN_OR_RETURN(auto existing, ExistingSpend(run_id));
    if (existing) {
      out.already_settled = true;
      out.spent_cents = *existing;
      return Status::Ok();
    }
    PL_ASSIGN_OR_RETURN(auto hold, Hold(run_id));
    if (!hold) return NotFound("run " + Quoted(run_id) + " has no hold and no spend");
    // A released hold covers nothing any more: its cost is judged against
    // what the domain has left, like an unreserved spend.
    bool covered = hold->state == "held";
    const char* note = nullptr;
    if (covered) {
      out.released_cents = actual_cents < hold->cents ? hold->cents - actual_cents : 0;
      out.overrun = actual_cents > hold->cents;
    }
    PL_RETURN_IF_ERROR(db_.Cached("UPDATE holds SET state = 'settled', closed_at = COALESCE(closed_at, ?) WHERE run_id = ?")
                           .BindAll(clock_.Now(), run_id)
                           .Run());
    if (!covered) {
      PL_ASSIGN_OR_RETURN(DomainReport f, Figures(hold->domain));
      out.overrun = actual_cents > 0 && f.remaining_cents < actual_cents;
    }
    if (out.overrun) note = "overrun";
    PL_RETURN_IF_ERROR(InsertSpend(hold->domain, run_id, hold->task_id, actual_cents, note));
    out.spent_cents = actual_cents;
    if (out.overrun) PL_RETURN_IF_ERROR(Block(hold->domain));
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return out;
}

Result<SettleResult> Ledger::Spend(const std::string& domain, const std::optional<std::string>& task_id,
                                   const std::string& run_id, int64_t cents) {
  PL_RETURN_IF_ERROR(ValidateName(domain, "domain"));
  PL_RETURN_IF_ERROR(ValidateName(run_id, "run id"));
  if (task_id) PL_RETURN_IF_ERROR(ValidateName(*task_id, "task id"));
  PL_RETURN_IF_ERROR(CheckCents(cents, "cents"));
  SettleResult out;
  Status st = db_.Write([&]() -> Status {
    PL_ASSIGN_OR_RETURN(auto existing, ExistingSpend(run_id));
    if (existing) {
      out.already_settled = true;
      out.spent_cents = *existing;
      return Status::Ok();
    }
    PL_ASSIGN_OR_RETURN(auto hold, Hold(run_id));
    if (hold) {
      if (hold->domain != domain)
        return Conflict("run " + Quoted(run_id) + " holds budget in domain " + Quoted(hold->domain) + ", not " +
                        Quoted(domain));
      PL_ASSIGN_OR_RETURN(out, Settle(run_id, cents));
      return Status::Ok();
    }
    PL_ASSIGN_OR_RETURN(out, SpendUnheld(domain, run_id, task_id, cents, ""));
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return out;
}

Result<SettleResult> Ledger::SpendWithoutRun(const std::string& domain, const std::optional<std::string>& task_id,
                                             int64_t cents, const std::string& note) {
  PL_RETURN_IF_ERROR(ValidateName(domain, "domain"));
  if (task_id) PL_RETURN_IF_ERROR(ValidateName(*task_id, "task id"));
  PL_RETURN_IF_ERROR(CheckCents(cents, "cents"));
  SettleResult out;
  Status st = db_.Write([&]() -> Status {
    PL_ASSIGN_OR_RETURN(out, SpendUnheld(domain, std::nullopt, task_id, cents, note));
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return out;
}

// REQUIRES: inside a Write; arguments validated.
Result<SettleResult> Ledger::SpendUnheld(const std::string& domain, const std::optional<std::string>& run_id,
                                         const std::optional<std::string>& task_id, int64_t cents,
                                         const std::string& note) {
  PL_RETURN_IF_ERROR(EnsureDomain(domain));
  PL_ASSIGN_OR_RETURN(DomainReport f, Figures(domain));
  SettleResult out;
  out.spent_cents = cents;
  // Nothing was reserved, so the spend is an overrun exactly when it does not
  // fit in what the domain has left.
  out.overrun = cents > 0 && f.remaining_cents < cents;
  std::string text = note;
  if (out.overrun) text = text.empty() ? "overrun" : text + " (overrun)";
  PL_RETURN_IF_ERROR(InsertSpend(domain, run_id, task_id, cents, text.empty() ? nullptr : text.c_str()));
  if (out.overrun) PL_RETURN_IF_ERROR(Block(domain));
  return out;
}

Status Ledger::Release(const std::string& run_id) {
  PL_RETURN_IF_ERROR(ValidateName(run_id, "run id"));
  return db_.Write([&]() -> Status {
    PL_ASSIGN_OR_RETURN(auto hold, Hold(run_id));
    if (!hold) {
      PL_ASSIGN_OR_RETURN(auto spent, ExistingSpend(run_id));
      if (spent) return Status::Ok();  // settled without a hold: nothing is held
      return NotFound("run " + Quoted(run_id) + " has no hold");
    }
    if (hold->state != "held") return Status::Ok();
    return db_.Cached("UPDATE holds SET state = 'released', closed_at = ? WHERE run_id = ? AND state = 'held'")
        .BindAll(clock_.Now(), run_id)
        .Run();
  });
}

}  // namespace pipeline
