#include "external/parse.h"

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "tasks/task.h"
#include "util/text.h"

namespace pipeline {

using nlohmann::json;

namespace {

std::optional<json> ParseJson(const std::string& text) {
  std::string t = Trim(text);
  if (t.empty()) return std::nullopt;
  json j = json::parse(t, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::optional<std::string> OptString(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// A strict decimal number ("300", "12.5", " 7 "); nullopt for anything else.
std::optional<double> NumberFromText(const std::string& s) {
  std::string t = Trim(s);
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  double v = strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || !std::isfinite(v)) return std::nullopt;
  // strtod also reads hex and "inf"; only plain decimals count.
  for (char c : t)
    if (!(isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
      return std::nullopt;
  return v;
}

std::optional<bool> LooseBool(const std::string& s) {
  std::string n = NormalizeLabel(s);
  for (const char* yes : {"true", "yes", "ok", "allow", "allowed", "1"})
    if (n == yes) return true;
  for (const char* no : {"false", "no", "deny", "denied", "0"})
    if (n == no) return false;
  return std::nullopt;
}

std::optional<double> AsAmount(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) return NumberFromText(v.get<std::string>());
  return std::nullopt;
}

std::optional<bool> AsBool(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) return LooseBool(v.get<std::string>());
  return std::nullopt;
}

BudgetAnswer FromAmount(double amount, int64_t reserve, const std::string& what) {
  BudgetAnswer a;
  a.verdict = amount >= static_cast<double>(reserve) ? BudgetVerdict::kAllowed : BudgetVerdict::kDenied;
  a.reason = what + "=" + json(amount).dump() + (a.verdict == BudgetVerdict::kAllowed ? " >= " : " < ") +
             std::to_string(reserve);
  return a;
}

BudgetAnswer FromBool(bool b, const std::string& what) {
  BudgetAnswer a;
  a.verdict = b ? BudgetVerdict::kAllowed : BudgetVerdict::kDenied;
  a.reason = what + "=" + (b ? "true" : "false");
  return a;
}

BudgetAnswer FromObject(const json& o, int64_t reserve) {
  static const char* kAmountKeys[] = {"remaining_cents", "available_cents", "budget_remaining_cents", "remaining",
                                      "balance_cents"};
  static const char* kBoolKeys[] = {"available", "allowed", "allow", "ok", "has_budget", "can_spend"};
  std::optional<BudgetAnswer> amount;
  for (const char* k : kAmountKeys) {
    auto it = o.find(k);
    if (it == o.end()) continue;
    if (auto v = AsAmount(*it)) {
      amount = FromAmount(*v, reserve, k);
      break;
    }
  }
  // A numeric "available" is an amount, not a truth value: 150 available is a
  // "no" for a 300 reserve (docs/protocol.md, "A check never fails open").
  if (!amount)
    if (auto it = o.find("available"); it != o.end() && it->is_number())
      amount = FromAmount(it->get<double>(), reserve, "available");
  if (amount && amount->verdict == BudgetVerdict::kDenied) return *amount;
  std::optional<BudgetAnswer> yes;
  for (const char* k : kBoolKeys) {
    auto it = o.find(k);
    if (it == o.end() || it->is_number()) continue;
    auto b = AsBool(*it);
    if (!b) continue;
    if (!*b) return FromBool(false, k);  // any explicit "no" denies
    if (!yes) yes = FromBool(true, k);
  }
  if (amount) return *amount;
  if (yes) return *yes;
  return BudgetAnswer{BudgetVerdict::kNoAnswer, "no recognised field"};
}

}  // namespace

Result<ReadyParse> ParseReadyTasks(const std::string& text) {
  auto j = ParseJson(text);
  if (!j) return InvalidArgument("task ready: output is not JSON");
  const json* arr = nullptr;
  if (j->is_array()) arr = &*j;
  else if (j->is_object() && j->contains("tasks") && (*j)["tasks"].is_array()) arr = &(*j)["tasks"];
  if (!arr) return InvalidArgument("task ready: expected a JSON array of tasks");
  ReadyParse out;
  size_t i = 0;
  for (const json& e : *arr) {
    ++i;
    if (!e.is_object()) {
      out.skipped.push_back("element " + std::to_string(i) + " is not an object");
      continue;
    }
    ExternalTask t;
    auto id = e.find("taskId");
    if (id != e.end() && id->is_string()) t.id = id->get<std::string>();
    else if (id != e.end() && id->is_number_integer()) t.id = std::to_string(id->get<int64_t>());
    if (t.id.empty()) {
      out.skipped.push_back("element " + std::to_string(i) + " has no taskId");
      continue;
    }
    t.ns = OptString(e, "taskNamespace");
    if (t.ns) {
      *t.ns = Trim(*t.ns);
      if (t.ns->empty()) t.ns.reset();
    }
    t.title = OptString(e, "taskTitle");
    t.status = OptString(e, "taskStatus");
    out.tasks.push_back(std::move(t));
  }
  return out;
}

bool ExternalTaskIsOpen(const ExternalTask& t) { return !t.status || ParseTaskStatus(*t.status) == TaskStatus::kOpen; }

BudgetAnswer ParseBudgetAnswer(const std::string& text, int64_t reserve) {
  if (auto j = ParseJson(text)) {
    if (j->is_object()) return FromObject(*j, reserve);
    if (j->is_boolean()) return FromBool(j->get<bool>(), "bare");
    if (j->is_number()) return FromAmount(j->get<double>(), reserve, "bare amount");
    if (j->is_string()) {
      std::string s = j->get<std::string>();
      if (auto b = LooseBool(s)) return FromBool(*b, "bare string");
      if (auto v = NumberFromText(s)) return FromAmount(*v, reserve, "bare string amount");
    }
    return BudgetAnswer{BudgetVerdict::kNoAnswer, "JSON without a budget answer"};
  }
  if (auto b = LooseBool(text)) return FromBool(*b, "text");
  if (auto v = NumberFromText(text)) return FromAmount(*v, reserve, "text amount");
  return BudgetAnswer{BudgetVerdict::kNoAnswer, "not a budget answer"};
}

AgentStatusAnswer ParseAgentStatus(const std::string& text, int exit_code) {
  AgentStatusAnswer a;
  auto j = ParseJson(text);
  std::string word;
  if (j && j->is_object()) {
    auto st = j->find("status");
    if (st == j->end() || !st->is_string()) {
      a.reason = "status answer without a status string (exit " + std::to_string(exit_code) + ")";
      return a;
    }
    word = st->get<std::string>();
    if (auto c = j->find("cost_cents"); c != j->end()) {
      auto v = AsAmount(*c);
      if (!v || *v < 0) {
        a.reason = "unreadable cost_cents " + c->dump();
        return a;  // never finalise with a cost we could not read
      }
      a.cost_cents = *v;
    }
    if (auto e = j->find("error"); e != j->end() && !e->is_null())
      a.error = e->is_string() ? e->get<std::string>() : e->dump();
  } else if (!j && !Trim(text).empty() && Trim(text).find_first_of(" \t\n{[") == std::string::npos) {
    word = Trim(text);  // a bare word such as `running`
  } else {
    a.reason = "undecodable status answer (exit " + std::to_string(exit_code) + ")";
    return a;
  }
  std::string n = NormalizeLabel(word);
  for (const char* live : {"running", "queued", "starting", "inprogress", "pending", "started"})
    if (n == live) {
      a.state = AgentState::kRunning;
      a.status = "running";
      return a;
    }
  static const std::pair<const char*, const char*> kEnded[] = {
      {"done", "done"},           {"succeeded", "done"},   {"success", "done"},     {"completed", "done"},
      {"failed", "failed"},       {"error", "failed"},     {"timeout", "timeout"},  {"timedout", "timeout"},
      {"killed", "killed"},       {"cancelled", "killed"}, {"canceled", "killed"},  {"overbudget", "over-budget"},
      {"needsinput", "needs-input"}};
  for (const auto& [k, v] : kEnded)
    if (n == k) {
      a.state = AgentState::kEnded;
      a.status = v;
      return a;
    }
  a.reason = "unknown run status " + Quoted(word);
  return a;
}

}  // namespace pipeline
