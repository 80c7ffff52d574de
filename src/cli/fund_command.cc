// `pipeline fund` (also `pipeline-fund` / `fund`): the budget ledger, speaking
// the `fund` protocol (check/budget/available/can-spend, spend/debit/record;
// docs/protocol.md, "fund") plus grant/set/reserve/settle/release/report/
// history. docs/cli-fund.md is the reference; this file only parses and
// prints, one handler per subcommand, found through the table at the end.
#include <cstdio>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/dispatch.h"
#include "sandbox/in_run_cli.h"
#include "config/config.h"
#include "ledger/ledger.h"
#include "store/root.h"
#include "util/text.h"

namespace pipeline {
namespace {

// What the check forms answer. "available" is the first key a caller looks
// for and is always a JSON bool, so no other key can decide for it
// (docs/protocol.md, "fund": the check forms).
nlohmann::json ReportJson(const DomainReport& r) {
  return {{"domain", r.domain},
          {"budget_cents", r.budget_cents},
          {"held_cents", r.held_cents},
          {"spent_cents", r.spent_cents},
          {"remaining_cents", r.remaining_cents},
          {"overrun_blocked", r.overrun_blocked}};
}

nlohmann::json SettleJson(const std::optional<std::string>& run_id, const std::string& domain,
                          const SettleResult& r) {
  nlohmann::json j = {{"spent_cents", r.spent_cents},
                      {"released_cents", r.released_cents},
                      {"already_settled", r.already_settled},
                      {"overrun", r.overrun}};
  if (run_id) j["run_id"] = *run_id;
  if (!domain.empty()) j["domain"] = domain;
  return j;
}

void PrintReport(const DomainReport& r) {
  printf("%s: budget %lld, held %lld, spent %lld, remaining %lld cents%s\n", r.domain.c_str(),
         static_cast<long long>(r.budget_cents), static_cast<long long>(r.held_cents),
         static_cast<long long>(r.spent_cents), static_cast<long long>(r.remaining_cents),
         r.overrun_blocked ? " (blocked by an overrun)" : "");
}

void PrintSettle(const std::string& what, const SettleResult& r) {
  if (r.already_settled) {
    printf("%s already settled (spent %lld cents); nothing changed\n", what.c_str(),
           static_cast<long long>(r.spent_cents));
    return;
  }
  printf("%s: spent %lld cents, released %lld cents%s\n", what.c_str(), static_cast<long long>(r.spent_cents),
         static_cast<long long>(r.released_cents), r.overrun ? "; OVERRUN: the domain is blocked until a grant" : "");
}

// The store, the ledger over it, and the two config values fund reads.
struct Opened {
  std::unique_ptr<Db> db;
  std::unique_ptr<Ledger> ledger;
  int64_t default_reserve_cents = 300;
};

Result<Opened> Open(const StoreFlags& flags) {
  PL_ASSIGN_OR_RETURN(RootPaths paths, FindRoot(flags.root));
  PL_ASSIGN_OR_RETURN(Config config, Config::Load(paths.config()));
  PL_ASSIGN_OR_RETURN(int64_t def_budget, config.IntOr("fund.default_budget_cents", 0));
  PL_RETURN_IF_ERROR(CheckCents(def_budget, "fund.default_budget_cents in " + paths.config()));
  Opened o;
  PL_ASSIGN_OR_RETURN(o.default_reserve_cents, config.IntOr("scheduler.reserve_cents", 300));
  PL_RETURN_IF_ERROR(CheckCents(o.default_reserve_cents, "scheduler.reserve_cents in " + paths.config()));
  PL_ASSIGN_OR_RETURN(o.db, OpenStore(paths));
  o.ledger = std::make_unique<Ledger>(*o.db, SystemClock(), def_budget);
  return o;
}

// One fund subcommand's command line: the options it declares, then every
// value checked before the store is touched, so bad input changes nothing.
// Amounts are taken as text and parsed by the ledger's strict ParseCents.
class FundCall {
 public:
  FundCall(const char* name, const char* help) : app_(help, std::string("pipeline fund ") + name) {
    AddStoreFlags(app_, &store_);
  }
  FundCall& Domain(bool required = true) {
    auto* opt = app_.add_option("--domain", domain_, required ? "Budget domain (any text)" : "Only this domain");
    if (required) opt->required();
    has_domain_ = true;
    domain_required_ = required;
    return *this;
  }
  FundCall& RunId() {
    app_.add_option("--run-id", run_id_, "Run id (the idempotence key)")->required();
    has_run_id_ = true;
    return *this;
  }
  FundCall& TaskId() {
    app_.add_option("--task-id", task_id_, "Task the money is for");
    return *this;
  }
  // The amount, required: --cents (or --cost-cents for record).
  FundCall& Cents(const char* flag = "--cents") {
    app_.add_option(flag, cents_text_, "Amount in whole cents")->required();
    cents_flag_ = flag;
    return *this;
  }
  // R of the check forms, optional: --reserve-cents (check) or --cents (can-spend).
  FundCall& ReserveCents(const char* flag) {
    app_.add_option(flag, reserve_text_, "R (default: scheduler.reserve_cents, 300)");
    reserve_flag_ = flag;
    return *this;
  }

  // nullopt: parsed and valid, go on; else the exit code to return.
  std::optional<int> Parse(const Args& args) {
    if (auto rc = ParseArgs(app_, args)) return rc;
    Status s = Check();
    if (!s.ok()) return Fail(s);
    return std::nullopt;
  }

  // The store and the ledger over it, as --root says.
  Result<Opened> OpenLedger() const { return Open(store_); }

  bool json() const { return store_.json; }
  const std::string& domain() const { return domain_; }
  const std::string& run_id() const { return run_id_; }
  const std::optional<std::string>& task_id() const { return task_id_; }
  int64_t cents() const { return cents_; }
  std::optional<int64_t> reserve() const { return reserve_; }

 private:
  Status Check() {
    if (cents_flag_) {
      PL_ASSIGN_OR_RETURN(cents_, ParseCents(cents_text_, cents_flag_));
    }
    if (reserve_text_) {
      PL_ASSIGN_OR_RETURN(reserve_, ParseCents(*reserve_text_, reserve_flag_));
    }
    if (has_domain_ && (domain_required_ || !domain_.empty()))
      PL_RETURN_IF_ERROR(ValidateName(domain_, "--domain"));
    if (has_run_id_) PL_RETURN_IF_ERROR(ValidateName(run_id_, "--run-id"));
    if (task_id_) PL_RETURN_IF_ERROR(ValidateName(*task_id_, "--task-id"));
    return Status::Ok();
  }

  CLI::App app_;
  StoreFlags store_;
  std::string domain_, run_id_, cents_text_;
  std::optional<std::string> task_id_, reserve_text_;
  const char* cents_flag_ = nullptr;
  const char* reserve_flag_ = nullptr;
  bool has_domain_ = false, domain_required_ = false, has_run_id_ = false;
  int64_t cents_ = 0;
  std::optional<int64_t> reserve_;
};

// grant and set: the budget, then the domain's figures.
int Budget(const Args& args, bool set) {
  FundCall call(set ? "set" : "grant", set ? "Set a domain's budget (clears an overrun block)"
                                           : "Add to a domain's budget (clears an overrun block)");
  call.Domain().Cents();
  if (auto rc = call.Parse(args)) return *rc;
  auto o = call.OpenLedger();
  if (!o.ok()) return Fail(o.error());
  Ledger& ledger = *o->ledger;
  Status s = set ? ledger.SetBudget(call.domain(), call.cents()) : ledger.Grant(call.domain(), call.cents());
  if (!s.ok()) return Fail(s);
  auto r = ledger.Check(call.domain());
  if (!r.ok()) return Fail(r.error());
  if (call.json()) PrintJson(ReportJson(*r));
  else PrintReport(*r);
  return 0;
}
int FundGrant(const Args& args) { return Budget(args, false); }
int FundSet(const Args& args) { return Budget(args, true); }

int FundReserve(const Args& args) {
  FundCall call("reserve", "Hold budget for a run (idempotent on --run-id)");
  call.Domain().RunId().Cents().TaskId();
  if (auto rc = call.Parse(args)) return *rc;
  auto o = call.OpenLedger();
  if (!o.ok()) return Fail(o.error());
  if (Status s = o->ledger->Reserve(call.domain(), call.run_id(), call.task_id(), call.cents()); !s.ok())
    return Fail(s);
  auto h = o->ledger->Hold(call.run_id());
  if (!h.ok()) return Fail(h.error());
  const HoldInfo& hold = **h;
  if (call.json()) {
    PrintJson({{"run_id", hold.run_id},
               {"domain", hold.domain},
               {"task_id", hold.task_id ? nlohmann::json(*hold.task_id) : nlohmann::json()},
               {"cents", hold.cents},
               {"state", hold.state}});
  } else {
    printf("run %s holds %lld cents in %s\n", hold.run_id.c_str(), static_cast<long long>(hold.cents),
           hold.domain.c_str());
  }
  return 0;
}

// settle (the run's hold) and spend (with or without one): idempotent on the run id.
int SpendForRun(const Args& args, bool settle) {
  FundCall call(settle ? "settle" : "spend",
                settle ? "Spend a run's actual cost and release the rest of its hold"
                       : "Record a run's cost (idempotent on --run-id; settles its hold)");
  if (!settle) call.Domain();
  call.RunId().Cents();
  if (!settle) call.TaskId();
  if (auto rc = call.Parse(args)) return *rc;
  auto o = call.OpenLedger();
  if (!o.ok()) return Fail(o.error());
  auto r = settle ? o->ledger->Settle(call.run_id(), call.cents())
                  : o->ledger->Spend(call.domain(), call.task_id(), call.run_id(), call.cents());
  if (!r.ok()) return Fail(r.error());
  if (call.json()) PrintJson(SettleJson(call.run_id(), call.domain(), *r));
  else PrintSettle("run " + call.run_id(), *r);
  return 0;
}
int FundSettle(const Args& args) { return SpendForRun(args, true); }
int FundSpend(const Args& args) { return SpendForRun(args, false); }

// debit and record: a cost without a run id, so not idempotent.
int SpendWithoutRun(const Args& args, const char* name) {
  const bool record = std::string_view(name) == "record";
  FundCall call(name, record ? "Record a task's cost without a run id (not idempotent)"
                             : "Record a cost without a run id (not idempotent)");
  call.Domain().Cents(record ? "--cost-cents" : "--cents");
  if (record) call.TaskId();
  if (auto rc = call.Parse(args)) return *rc;
  auto o = call.OpenLedger();
  if (!o.ok()) return Fail(o.error());
  auto r = o->ledger->SpendWithoutRun(call.domain(), call.task_id(), call.cents(), name);
  if (!r.ok()) return Fail(r.error());
  if (call.json()) PrintJson(SettleJson(std::nullopt, call.domain(), *r));
  else PrintSettle(std::string(name) + " in " + call.domain(), *r);
  return 0;
}
int FundDebit(const Args& args) { return SpendWithoutRun(args, "debit"); }
int FundRecord(const Args& args) { return SpendWithoutRun(args, "record"); }

int FundRelease(const Args& args) {
  FundCall call("release", "Drop a run's hold without spending");
  call.RunId();
  if (auto rc = call.Parse(args)) return *rc;
  auto o = call.OpenLedger();
  if (!o.ok()) return Fail(o.error());
  if (Status s = o->ledger->Release(call.run_id()); !s.ok()) return Fail(s);
  auto h = o->ledger->Hold(call.run_id());
  if (!h.ok()) return Fail(h.error());
  std::string state = *h ? (*h)->state : "settled";
  if (call.json()) PrintJson({{"run_id", call.run_id()}, {"state", state}});
  else printf("run %s: hold %s\n", call.run_id().c_str(), state.c_str());
  return 0;
}

int FundReport(const Args& args) {
  FundCall call("report", "Budget, held, spent and remaining per domain");
  if (auto rc = call.Parse(args)) return *rc;
  auto o = call.OpenLedger();
  if (!o.ok()) return Fail(o.error());
  auto r = o->ledger->Report();
  if (!r.ok()) return Fail(r.error());
  if (call.json()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& d : *r) j.push_back(ReportJson(d));
    PrintJson(j);
    return 0;
  }
  if (r->empty()) printf("no domains yet (`pipeline fund grant --domain D --cents N`)\n");
  for (const auto& d : *r) PrintReport(d);
  return 0;
}

int FundHistory(const Args& args) {
  FundCall call("history", "Ledger entries and hold events, oldest first");
  call.Domain(/*required=*/false);
  if (auto rc = call.Parse(args)) return *rc;
  auto o = call.OpenLedger();
  if (!o.ok()) return Fail(o.error());
  auto r = o->ledger->History(call.domain().empty() ? std::nullopt : std::optional<std::string>(call.domain()));
  if (!r.ok()) return Fail(r.error());
  if (call.json()) {
    PrintJson(*r);
    return 0;
  }
  for (const auto& e : *r) {
    printf("%s  %-7s %-20s %12lld  run=%s task=%s\n", e["at"].get<std::string>().c_str(),
           e["kind"].get<std::string>().c_str(), e["domain"].get<std::string>().c_str(),
           static_cast<long long>(e["cents"].get<int64_t>()),
           e["run_id"].is_string() ? e["run_id"].get<std::string>().c_str() : "-",
           e["task_id"].is_string() ? e["task_id"].get<std::string>().c_str() : "-");
  }
  return 0;
}

// The four check forms (docs/protocol.md, "fund"): one answer, "can a run
// holding R cents start?". reserve_flag names R's option; null: the default R.
int CheckForm(const Args& args, const char* name, const char* help, const char* reserve_flag) {
  FundCall call(name, help);
  call.Domain();
  if (reserve_flag) call.ReserveCents(reserve_flag);
  if (auto rc = call.Parse(args)) return *rc;
  auto o = call.OpenLedger();
  if (!o.ok()) return Fail(o.error());
  int64_t r_cents = call.reserve().value_or(o->default_reserve_cents);
  auto r = o->ledger->Check(call.domain());
  if (!r.ok()) return Fail(r.error());
  bool ok = !r->overrun_blocked && r->remaining_cents >= r_cents;
  if (call.json()) {
    nlohmann::json j = ReportJson(*r);
    j["available"] = ok;
    j["reserve_cents"] = r_cents;
    PrintJson(j);
  } else {
    printf("%s: %s (remaining %lld cents, %lld needed%s)\n", r->domain.c_str(), ok ? "available" : "not available",
           static_cast<long long>(r->remaining_cents), static_cast<long long>(r_cents),
           r->overrun_blocked ? ", blocked by an overrun" : "");
  }
  return 0;
}
constexpr const char* kCheckHelp = "Can a run holding R cents start? (check form 1)";
constexpr const char* kBudgetHelp = "Same answer as check (check form 2)";
constexpr const char* kAvailableHelp = "Same answer as check (check form 3)";
constexpr const char* kCanSpendHelp = "Same answer as check, R = --cents (check form 4)";
int FundCheck(const Args& args) { return CheckForm(args, "check", kCheckHelp, "--reserve-cents"); }
int FundBudget(const Args& args) { return CheckForm(args, "budget", kBudgetHelp, nullptr); }
int FundAvailable(const Args& args) { return CheckForm(args, "available", kAvailableHelp, nullptr); }
int FundCanSpend(const Args& args) { return CheckForm(args, "can-spend", kCanSpendHelp, "--cents"); }

}  // namespace

int FundCommand(const Args& args) {
  if (auto rc = InsideRunCommand("fund", args)) return *rc;  // refused inside a confined run
  static const CommandGroup kFund = {
      "pipeline fund",
      "The per-domain budget ledger (the `fund` protocol, docs/protocol.md). Amounts are whole cents.",
      {
          {"grant", "Add to a domain's budget (clears an overrun block)", FundGrant},
          {"set", "Set a domain's budget (clears an overrun block)", FundSet},
          {"reserve", "Hold budget for a run (idempotent on --run-id)", FundReserve},
          {"settle", "Spend a run's actual cost and release the rest of its hold", FundSettle},
          {"release", "Drop a run's hold without spending", FundRelease},
          {"report", "Budget, held, spent and remaining per domain", FundReport},
          {"history", "Ledger entries and hold events, oldest first", FundHistory},
          {"check", kCheckHelp, FundCheck},
          {"budget", kBudgetHelp, FundBudget},
          {"available", kAvailableHelp, FundAvailable},
          {"can-spend", kCanSpendHelp, FundCanSpend},
          {"spend", "Record a run's cost (idempotent on --run-id; settles its hold)", FundSpend},
          {"debit", "Record a cost without a run id (not idempotent)", FundDebit},
          {"record", "Record a task's cost without a run id (not idempotent)", FundRecord},
      },
  };
  return Dispatch(kFund, args);
}

}  // namespace pipeline
