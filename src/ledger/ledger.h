// The budget ledger: per-domain budgets in integer cents, holds (one per run)
// that reserve budget before a run starts, and spends that settle them.
//
// Spent = sum of spends; held = sum of holds still 'held';
// remaining = budget - spent - held. Reserve refuses a hold that does not fit
// in remaining, so through reservations spent + held never exceeds the budget.
// The only way past it is an overrun: a run that cost more than its hold (or
// an unreserved spend that exceeds what is left). An overrun is recorded in
// full and blocks new holds in its domain until the next Grant or SetBudget.
//
// Every mutating method runs inside Db::Write: atomic on its own, and part of
// the caller's transaction when called inside an outer Write (the scheduler
// claims a task and reserves its budget in one transaction). A Ledger is used
// from one thread, like the Db it wraps.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ledger/money.h"  // CentsForSettlement, kMaxCents
#include "store/db.h"
#include "util/clock.h"
#include "util/status.h"

namespace pipeline {

struct DomainReport {
  std::string domain;
  int64_t budget_cents = 0, held_cents = 0, spent_cents = 0, remaining_cents = 0;
  bool overrun_blocked = false;
};

struct SettleResult {
  bool already_settled = false;  // the run's spend existed; nothing changed
  int64_t spent_cents = 0;       // the run's spend (the existing one when already settled)
  int64_t released_cents = 0;    // unused part of the hold returned to the domain
  bool overrun = false;          // this call recorded an overrun and blocked the domain
};

struct HoldInfo {
  std::string run_id, domain;
  std::optional<std::string> task_id;
  int64_t cents = 0;
  std::string state;  // held | settled | released
  Micros created_at = 0;
  std::optional<Micros> closed_at;
};

class Ledger {
 public:
  // default_budget_cents: the budget a domain gets when a mutation first
  // names it (config fund.default_budget_cents). REQUIRES: db outlives this.
  Ledger(Db& db, Clock& clock, int64_t default_budget_cents);

  // Adds cents to the budget / sets it. Both clear overrun_blocked.
  Status Grant(const std::string& domain, int64_t cents);
  Status SetBudget(const std::string& domain, int64_t cents);

  // Holds cents for run_id. kRefused when remaining < cents or the domain is
  // overrun-blocked. Idempotent: a run that already holds budget in this
  // domain keeps its one hold (kConflict if it holds in another domain;
  // kRefused if the run was already settled or released).
  Status Reserve(const std::string& domain, const std::string& run_id, const std::optional<std::string>& task_id,
                 int64_t cents);

  // Posts the run's actual cost as its spend and releases the rest of its
  // hold. Idempotent: once the run has a spend, nothing changes
  // (already_settled). kNotFound when the run has neither hold nor spend.
  Result<SettleResult> Settle(const std::string& run_id, int64_t actual_cents);

  // Records a run's cost, with or without a hold (the seed's `fund spend`).
  // With a hold this is Settle. Idempotent on run_id (non-empty).
  Result<SettleResult> Spend(const std::string& domain, const std::optional<std::string>& task_id,
                             const std::string& run_id, int64_t cents);

  // A spend that carries no run id (the seed's `debit` / `record` forms).
  // It cannot be deduplicated: every call is a new spend.
  Result<SettleResult> SpendWithoutRun(const std::string& domain, const std::optional<std::string>& task_id,
                                       int64_t cents, const std::string& note);

  // Drops a hold without spending. Idempotent (a closed hold stays closed);
  // kNotFound when the run has no hold and no spend.
  Status Release(const std::string& run_id);

  // A domain's figures. Creates nothing: an unknown domain is reported as it
  // would be created (default budget, nothing held or spent).
  Result<DomainReport> Check(const std::string& domain);
  // Every known domain, sorted by name.
  Result<std::vector<DomainReport>> Report();
  // Ledger entries and hold events, oldest first (see docs/cli-fund.md).
  Result<nlohmann::json> History(const std::optional<std::string>& domain);
  // The hold of run_id, if any.
  Result<std::optional<HoldInfo>> Hold(const std::string& run_id);

 private:
  // A domains row, with the running totals the store keeps (schema v4).
  struct DomainRow {
    int64_t budget_cents = 0;
    bool overrun_blocked = false;
    int64_t held_cents = 0, spent_cents = 0;
  };
  Result<std::optional<DomainRow>> LoadDomain(const std::string& domain);
  Result<bool> HasTotals();
  Status SumRows(const std::string& domain, DomainRow& row);
  Status EnsureDomain(const std::string& domain);
  Result<DomainReport> Figures(const std::string& domain);
  Result<std::optional<int64_t>> ExistingSpend(const std::string& run_id);
  Status InsertSpend(const std::string& domain, const std::optional<std::string>& run_id,
                     const std::optional<std::string>& task_id, int64_t cents, const char* note);
  Status Block(const std::string& domain);
  Result<SettleResult> SpendUnheld(const std::string& domain, const std::optional<std::string>& run_id,
                                   const std::optional<std::string>& task_id, int64_t cents, const std::string& note);
  Status ChangeBudget(const std::string& domain, int64_t cents, bool add);

  Db& db_;
  Clock& clock_;
  int64_t default_budget_cents_;
  bool has_totals_ = false;  // the store is at schema v4 or later (never goes back)
};


}  // namespace pipeline
