// `pipeline fund` (also `pipeline-fund` / `fund`): the budget ledger, speaking
// the seed's `fund` protocol (check/budget/available/can-spend, spend/debit/
// record) plus grant/set/reserve/settle/release/report/history.
// docs/cli-fund.md is the reference; this file only parses and prints.
#include <cstdio>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "config/config.h"
#include "ledger/ledger.h"
#include "store/root.h"
#include "util/text.h"

namespace pipeline {
namespace {

struct FundOptions {
  std::string domain, run_id, cents;
  std::optional<std::string> task_id;
  std::optional<std::string> reserve_cents;  // check: --reserve-cents; can-spend: --cents
};

// What the seed's check forms answer. "available" is the first key the seed
// looks for and is always a JSON bool, so no other key can decide for it (W10).
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

}  // namespace

int FundCommand(const Args& args) {
  CLI::App app("The per-domain budget ledger (`fund` protocol). Amounts are whole cents.", "pipeline fund");
  app.fallthrough();  // --json / --root are accepted after the subcommand, where the seed puts them
  app.require_subcommand(1, 1);
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  FundOptions o;
  auto domain_opt = [&](CLI::App* s) { s->add_option("--domain", o.domain, "Budget domain (any text)")->required(); };
  auto run_opt = [&](CLI::App* s) { s->add_option("--run-id", o.run_id, "Run id (the idempotence key)")->required(); };
  auto task_opt = [&](CLI::App* s) { s->add_option("--task-id", o.task_id, "Task the money is for"); };
  auto cents_opt = [&](CLI::App* s, const char* name) {
    s->add_option(name, o.cents, "Amount in whole cents")->required();
  };

  CLI::App* grant = app.add_subcommand("grant", "Add to a domain's budget (clears an overrun block)");
  domain_opt(grant);
  cents_opt(grant, "--cents");
  CLI::App* set = app.add_subcommand("set", "Set a domain's budget (clears an overrun block)");
  domain_opt(set);
  cents_opt(set, "--cents");
  CLI::App* reserve = app.add_subcommand("reserve", "Hold budget for a run (idempotent on --run-id)");
  domain_opt(reserve);
  run_opt(reserve);
  cents_opt(reserve, "--cents");
  task_opt(reserve);
  CLI::App* settle = app.add_subcommand("settle", "Spend a run's actual cost and release the rest of its hold");
  run_opt(settle);
  cents_opt(settle, "--cents");
  CLI::App* release = app.add_subcommand("release", "Drop a run's hold without spending");
  run_opt(release);
  CLI::App* report = app.add_subcommand("report", "Budget, held, spent and remaining per domain");
  CLI::App* history = app.add_subcommand("history", "Ledger entries and hold events, oldest first");
  history->add_option("--domain", o.domain, "Only this domain");
  // The seed's budget check forms, all answering the same object.
  CLI::App* check = app.add_subcommand("check", "Can a run holding R cents start?");
  domain_opt(check);
  check->add_option("--reserve-cents", o.reserve_cents, "R (default: scheduler.reserve_cents, 300)");
  CLI::App* budget = app.add_subcommand("budget", "Same answer as check");
  domain_opt(budget);
  CLI::App* available = app.add_subcommand("available", "Same answer as check");
  domain_opt(available);
  CLI::App* can_spend = app.add_subcommand("can-spend", "Same answer as check, R = --cents");
  domain_opt(can_spend);
  can_spend->add_option("--cents", o.reserve_cents, "R (default: scheduler.reserve_cents, 300)");
  // The seed's spend forms.
  CLI::App* spend = app.add_subcommand("spend", "Record a run's cost (idempotent on --run-id; settles its hold)");
  domain_opt(spend);
  run_opt(spend);
  cents_opt(spend, "--cents");
  task_opt(spend);
  CLI::App* debit = app.add_subcommand("debit", "Record a cost without a run id (not idempotent)");
  domain_opt(debit);
  cents_opt(debit, "--cents");
  CLI::App* record = app.add_subcommand("record", "Record a task's cost without a run id (not idempotent)");
  domain_opt(record);
  cents_opt(record, "--cost-cents");
  task_opt(record);

  // Name an unknown subcommand plainly (CLI11 would only say one is required).
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--root") { ++i; continue; }
    if (StartsWith(args[i], "-")) continue;
    auto subs = app.get_subcommands([&](CLI::App* c) { return c->get_name() == args[i]; });
    if (subs.empty())
      return UsageError("unknown fund command " + Quoted(args[i]) + " (see `pipeline fund --help`)");
    break;
  }
  if (auto rc = ParseArgs(app, args)) return *rc;
  CLI::App* sub = app.get_subcommands().front();
  const std::string name = sub->get_name();

  // Validate every value before touching the store: bad input changes nothing.
  int64_t cents = 0;
  if (sub->get_option_no_throw("--cents") && sub != can_spend) {
    auto c = ParseCents(o.cents, "--cents");
    if (!c.ok()) return Fail(c.error());
    cents = *c;
  }
  if (sub == record) {
    auto c = ParseCents(o.cents, "--cost-cents");
    if (!c.ok()) return Fail(c.error());
    cents = *c;
  }
  std::optional<int64_t> reserve_r;
  if (o.reserve_cents) {
    auto c = ParseCents(*o.reserve_cents, sub == can_spend ? "--cents" : "--reserve-cents");
    if (!c.ok()) return Fail(c.error());
    reserve_r = *c;
  }
  if (!o.domain.empty() || sub->get_option_no_throw("--domain")) {
    if (sub != history || !o.domain.empty()) {
      Status s = ValidateName(o.domain, "--domain");
      if (!s.ok()) return Fail(s);
    }
  }
  if (sub->get_option_no_throw("--run-id")) {
    Status s = ValidateName(o.run_id, "--run-id");
    if (!s.ok()) return Fail(s);
  }
  if (o.task_id) {
    Status s = ValidateName(*o.task_id, "--task-id");
    if (!s.ok()) return Fail(s);
  }

  auto opened = Open(flags);
  if (!opened.ok()) return Fail(opened.error());
  Ledger& ledger = *opened->ledger;

  if (sub == grant || sub == set) {
    Status s = sub == grant ? ledger.Grant(o.domain, cents) : ledger.SetBudget(o.domain, cents);
    if (!s.ok()) return Fail(s);
    auto r = ledger.Check(o.domain);
    if (!r.ok()) return Fail(r.error());
    if (flags.json) PrintJson(ReportJson(*r));
    else PrintReport(*r);
    return 0;
  }
  if (sub == reserve) {
    Status s = ledger.Reserve(o.domain, o.run_id, o.task_id, cents);
    if (!s.ok()) return Fail(s);
    auto h = ledger.Hold(o.run_id);
    if (!h.ok()) return Fail(h.error());
    const HoldInfo& hold = **h;
    if (flags.json) {
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
  if (sub == settle || sub == spend) {
    auto r = sub == settle ? ledger.Settle(o.run_id, cents) : ledger.Spend(o.domain, o.task_id, o.run_id, cents);
    if (!r.ok()) return Fail(r.error());
    if (flags.json) PrintJson(SettleJson(o.run_id, o.domain, *r));
    else PrintSettle("run " + o.run_id, *r);
    return 0;
  }
  if (sub == debit || sub == record) {
    auto r = ledger.SpendWithoutRun(o.domain, o.task_id, cents, name);
    if (!r.ok()) return Fail(r.error());
    if (flags.json) PrintJson(SettleJson(std::nullopt, o.domain, *r));
    else PrintSettle(name + " in " + o.domain, *r);
    return 0;
  }
  if (sub == release) {
    Status s = ledger.Release(o.run_id);
    if (!s.ok()) return Fail(s);
    auto h = ledger.Hold(o.run_id);
    if (!h.ok()) return Fail(h.error());
    std::string state = *h ? (*h)->state : "settled";
    if (flags.json) PrintJson({{"run_id", o.run_id}, {"state", state}});
    else printf("run %s: hold %s\n", o.run_id.c_str(), state.c_str());
    return 0;
  }
  if (sub == report) {
    auto r = ledger.Report();
    if (!r.ok()) return Fail(r.error());
    if (flags.json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& d : *r) j.push_back(ReportJson(d));
      PrintJson(j);
    } else {
      if (r->empty()) printf("no domains yet (`pipeline fund grant --domain D --cents N`)\n");
      for (const auto& d : *r) PrintReport(d);
    }
    return 0;
  }
  if (sub == history) {
    auto r = ledger.History(o.domain.empty() ? std::nullopt : std::optional<std::string>(o.domain));
    if (!r.ok()) return Fail(r.error());
    if (flags.json) {
      PrintJson(*r);
    } else {
      for (const auto& e : *r) {
        printf("%s  %-7s %-20s %12lld  run=%s task=%s\n", e["at"].get<std::string>().c_str(),
               e["kind"].get<std::string>().c_str(), e["domain"].get<std::string>().c_str(),
               static_cast<long long>(e["cents"].get<int64_t>()),
               e["run_id"].is_string() ? e["run_id"].get<std::string>().c_str() : "-",
               e["task_id"].is_string() ? e["task_id"].get<std::string>().c_str() : "-");
      }
    }
    return 0;
  }
  // check / budget / available / can-spend.
  int64_t r_cents = reserve_r.value_or(opened->default_reserve_cents);
  auto r = ledger.Check(o.domain);
  if (!r.ok()) return Fail(r.error());
  bool ok = !r->overrun_blocked && r->remaining_cents >= r_cents;
  if (flags.json) {
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

}  // namespace pipeline
