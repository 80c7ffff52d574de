// The ledger's read side: figures per domain, holds, history. Reads that
// back a decision (Reserve, Settle) run inside the caller's Write; the
// public ones take a read snapshot so their sums agree with each other.
#include "ledger/ledger.h"

#include "util/text.h"

namespace pipeline {

namespace {

// The schema version that added domains.held_cents/spent_cents and their triggers.
constexpr int64_t kTotalsSchemaVersion = 4;

}  // namespace

// A read-only connection (status, run --dry-run) does not migrate, so it may
// meet a store still at v3, without the totals columns.
Result<bool> Ledger::HasTotals() {
  if (has_totals_) return true;
  Stmt& s = db_.Cached("PRAGMA user_version");
  PL_ASSIGN_OR_RETURN(bool row, s.Step());
  has_totals_ = row && s.Int(0) >= kTotalsSchemaVersion;
  s.Reset();
  return has_totals_;
}

// The figures of a store older than v4, summed from its rows as v3 did.
Status Ledger::SumRows(const std::string& domain, DomainRow& r) {
  Stmt& held = db_.Cached("SELECT COALESCE(SUM(cents), 0) FROM holds WHERE domain = ? AND state = 'held'");
  held.Bind(1, domain);
  PL_ASSIGN_OR_RETURN(bool h, held.Step());
  r.held_cents = h ? held.Int(0) : 0;
  held.Reset();
  Stmt& spent = db_.Cached("SELECT COALESCE(SUM(cents), 0) FROM ledger WHERE domain = ? AND kind = 'spend'");
  spent.Bind(1, domain);
  PL_ASSIGN_OR_RETURN(bool sp, spent.Step());
  r.spent_cents = sp ? spent.Int(0) : 0;
  spent.Reset();
  return Status::Ok();
}

Result<std::optional<Ledger::DomainRow>> Ledger::LoadDomain(const std::string& domain) {
  PL_ASSIGN_OR_RETURN(bool totals, HasTotals());
  std::optional<DomainRow> out;
  if (totals) {
    Stmt& s = db_.Cached("SELECT budget_cents, overrun_blocked, held_cents, spent_cents FROM domains WHERE domain = ?");
    s.Bind(1, domain);
    PL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) out = DomainRow{s.Int(0), s.Int(1) != 0, s.Int(2), s.Int(3)};
    s.Reset();
    return out;
  }
  Stmt& s = db_.Cached("SELECT budget_cents, overrun_blocked FROM domains WHERE domain = ?");
  s.Bind(1, domain);
  PL_ASSIGN_OR_RETURN(bool row, s.Step());
  if (row) out = DomainRow{s.Int(0), s.Int(1) != 0};
  s.Reset();
  if (out) PL_RETURN_IF_ERROR(SumRows(domain, *out));
  return out;
}

// One row, whatever the number of holds and spends: the store's triggers keep
// held_cents and spent_cents equal to the sums of the domain's holds still
// held and of its spends (see the v4 migration in store/schema.cc).
Result<DomainReport> Ledger::Figures(const std::string& domain) {
  DomainReport r;
  r.domain = domain;
  PL_ASSIGN_OR_RETURN(auto row, LoadDomain(domain));
  if (!row) {
    r.budget_cents = r.remaining_cents = default_budget_cents_;
    return r;
  }
  r.budget_cents = row->budget_cents;
  r.overrun_blocked = row->overrun_blocked;
  r.held_cents = row->held_cents;
  r.spent_cents = row->spent_cents;
  r.remaining_cents = r.budget_cents - r.spent_cents - r.held_cents;
  return r;
}

Result<std::optional<int64_t>> Ledger::ExistingSpend(const std::string& run_id) {
  Stmt& s = db_.Cached("SELECT cents FROM ledger WHERE run_id = ? AND kind = 'spend'");
  s.Bind(1, run_id);
  PL_ASSIGN_OR_RETURN(bool row, s.Step());
  std::optional<int64_t> out;
  if (row) out = s.Int(0);
  s.Reset();
  return out;
}

Result<std::optional<HoldInfo>> Ledger::Hold(const std::string& run_id) {
  Stmt& s = db_.Cached("SELECT run_id, domain, task_id, cents, state, created_at, closed_at FROM holds WHERE run_id = ?");
  s.Bind(1, run_id);
  PL_ASSIGN_OR_RETURN(bool row, s.Step());
  std::optional<HoldInfo> out;
  if (row) out = HoldInfo{s.Text(0), s.Text(1), s.OptText(2), s.Int(3), s.Text(4), s.Int(5), s.OptInt(6)};
  s.Reset();
  return out;
}

Result<DomainReport> Ledger::Check(const std::string& domain) {
  PL_RETURN_IF_ERROR(ValidateName(domain, "domain"));
  DomainReport r;
  PL_RETURN_IF_ERROR(db_.Read([&]() -> Status {
    PL_ASSIGN_OR_RETURN(r, Figures(domain));
    return Status::Ok();
  }));
  return r;
}

Result<std::vector<DomainReport>> Ledger::Report() {
  std::vector<DomainReport> out;
  PL_RETURN_IF_ERROR(db_.Read([&]() -> Status {
    std::vector<std::string> names;
    Stmt& s = db_.Cached("SELECT domain FROM domains ORDER BY domain");
    while (true) {
      PL_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      names.push_back(s.Text(0));
    }
    s.Reset();
    for (const auto& d : names) {
      PL_ASSIGN_OR_RETURN(DomainReport r, Figures(d));
      out.push_back(std::move(r));
    }
    return Status::Ok();
  }));
  return out;
}

namespace {

nlohmann::json OptJson(const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

}  // namespace

Result<nlohmann::json> Ledger::History(const std::optional<std::string>& domain) {
  if (domain) PL_RETURN_IF_ERROR(ValidateName(*domain, "domain"));
  // Events are (time, order within the same time, json). Ledger rows keep
  // their id order; a hold's opening sorts before its closing.
  struct Event {
    Micros at;
    int rank;
    int64_t seq;
    nlohmann::json j;
  };
  std::vector<Event> events;
  PL_RETURN_IF_ERROR(db_.Read([&]() -> Status {
    Stmt& l = db_.Cached(
        "SELECT id, domain, kind, cents, run_id, task_id, note, created_at FROM ledger "
        "WHERE ?1 IS NULL OR domain = ?1 ORDER BY id");
    l.Bind(1, domain);
    while (true) {
      PL_ASSIGN_OR_RETURN(bool row, l.Step());
      if (!row) break;
      nlohmann::json j = {{"id", l.Int(0)},         {"at", FormatIso8601(l.Int(7))}, {"domain", l.Text(1)},
                          {"kind", l.Text(2)},      {"cents", l.Int(3)},             {"run_id", OptJson(l.OptText(4))},
                          {"task_id", OptJson(l.OptText(5))}, {"note", OptJson(l.OptText(6))}};
      events.push_back({l.Int(7), 1, l.Int(0), std::move(j)});
    }
    l.Reset();
    Stmt& h = db_.Cached(
        "SELECT run_id, domain, task_id, cents, state, created_at, closed_at FROM holds "
        "WHERE ?1 IS NULL OR domain = ?1 ORDER BY created_at, run_id");
    h.Bind(1, domain);
    int64_t n = 0;
    while (true) {
      PL_ASSIGN_OR_RETURN(bool row, h.Step());
      if (!row) break;
      nlohmann::json base = {{"domain", h.Text(1)}, {"cents", h.Int(3)}, {"run_id", h.Text(0)},
                             {"task_id", OptJson(h.OptText(2))}};
      nlohmann::json open = base;
      open["kind"] = "hold";
      open["at"] = FormatIso8601(h.Int(5));
      open["state"] = h.Text(4);
      events.push_back({h.Int(5), 0, n++, std::move(open)});
      // A settled hold's closing is its spend row; a released one gets its own event.
      if (h.Text(4) == "released" && !h.IsNull(6)) {
        nlohmann::json close = base;
        close["kind"] = "release";
        close["at"] = FormatIso8601(h.Int(6));
        events.push_back({h.Int(6), 2, n++, std::move(close)});
      }
    }
    h.Reset();
    return Status::Ok();
  }));
  std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    if (a.at != b.at) return a.at < b.at;
    if (a.rank != b.rank) return a.rank < b.rank;
    return a.seq < b.seq;
  });
  nlohmann::json out = nlohmann::json::array();
  for (auto& e : events) out.push_back(std::move(e.j));
  return out;
}

}  // namespace pipeline
