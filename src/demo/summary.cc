#include "demo/summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "ledger/money.h"
#include "demo/backlog.h"
#include "demo/project.h"
#include "tasks/task_store.h"
#include "util/text.h"

namespace pipeline::demo {
namespace {

using nlohmann::json;

bool ContainsNoCase(std::string hay, std::string needle) {
  auto lower = [](std::string& s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  };
  lower(hay);
  lower(needle);
  return hay.find(needle) != std::string::npos;
}

// Rows of a query as JSON objects keyed by the given column names.
Result<std::vector<json>> Rows(Db& db, const char* sql, const std::vector<std::string>& cols) {
  PL_ASSIGN_OR_RETURN(Stmt st, db.Prepare(sql));
  std::vector<json> out;
  while (true) {
    PL_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    json o = json::object();
    for (size_t i = 0; i < cols.size(); ++i) {
      int c = static_cast<int>(i);
      if (st.IsNull(c)) {
        o[cols[i]] = nullptr;
      } else if (cols[i] == "cost_cents") {
        o[cols[i]] = st.Double(c);
      } else if (cols[i] == "patchset" || cols[i] == "cents" || cols[i] == "budget_cents") {
        o[cols[i]] = st.Int(c);
      } else {
        o[cols[i]] = st.Text(c);
      }
    }
    out.push_back(std::move(o));
  }
  return out;
}

int64_t SumWhere(const std::vector<json>& rows, const char* key, const std::string& value, const char* field) {
  int64_t sum = 0;
  for (const auto& r : rows)
    if (r[key] == value) sum += r[field].get<int64_t>();
  return sum;
}

}  // namespace

Result<json> CollectDemoSummary(Db& db, ProcessRunner& runner, const DemoFacts& facts) {
  json s;
  std::vector<json> tasks, runs, comments, domains, ledger, holds;
  PL_RETURN_IF_ERROR(db.Read([&]() -> Status {
    PL_ASSIGN_OR_RETURN(auto all, TaskStore(db, SystemClock()).List(TaskFilter{}));
    for (const Task& t : all) {
      tasks.push_back({{"id", t.id}, {"title", t.title}, {"domain", t.ns ? json(*t.ns) : json(nullptr)},
                       {"status", TaskStatusName(t.status)}, {"patchset", t.patchset}});
      for (const Comment& c : t.comments)
        comments.push_back({{"task_id", t.id}, {"author", c.author}, {"text", c.text}});
    }
    PL_ASSIGN_OR_RETURN(runs, Rows(db,
                                   "SELECT run_id, task_id, domain, phase, patchset, status, cost_cents, error "
                                   "FROM runs ORDER BY created_at, run_id",
                                   {"run_id", "task_id", "domain", "phase", "patchset", "status", "cost_cents", "error"}));
    PL_ASSIGN_OR_RETURN(domains, Rows(db, "SELECT domain, budget_cents FROM domains ORDER BY domain",
                                      {"domain", "budget_cents"}));
    PL_ASSIGN_OR_RETURN(ledger, Rows(db, "SELECT domain, kind, cents FROM ledger ORDER BY id", {"domain", "kind", "cents"}));
    PL_ASSIGN_OR_RETURN(holds, Rows(db, "SELECT domain, cents FROM holds WHERE state = 'held'", {"domain", "cents"}));
    return Status::Ok();
  }));

  // The base branch: its one-line log, and the task ids its commits carry.
  PL_ASSIGN_OR_RETURN(std::string oneline, RunGit(runner, facts.dir, {"log", "--oneline", facts.base}));
  PL_ASSIGN_OR_RETURN(std::string bodies, RunGit(runner, facts.dir, {"log", "--format=%B", facts.base}));
  std::vector<std::string> log_lines = Split(oneline, '\n');
  std::set<std::string> trailers;  // task ids named by a Task-Id trailer on the base branch
  for (const std::string& line : Split(bodies, '\n')) {
    std::string t = Trim(line);
    if (StartsWith(t, "Task-Id:")) trailers.insert(Trim(t.substr(8)));
  }

  json status_counts = json::object();
  json task_list = json::array();
  bool all_done = !tasks.empty();
  for (const auto& t : tasks) {
    std::string id = t["id"], status = t["status"];
    status_counts[status] = status_counts.value(status, 0) + 1;
    if (status != TaskStatusName(TaskStatus::kDone)) all_done = false;
    json j = t;
    auto key = facts.key_of_task.find(id);
    const DemoTaskSpec* spec = key == facts.key_of_task.end() ? nullptr : FindDemoTask(key->second);
    j["key"] = spec ? spec->key : "";
    j["role"] = spec ? DemoRoleName(spec->role) : "";
    json task_runs = json::array();
    int dev_runs = 0, needs_input = 0;
    std::set<int64_t> patchsets;  // distinct patchsets that had a dev run
    double cost = 0;
    for (const auto& r : runs) {
      if (r["task_id"] != id) continue;
      task_runs.push_back({{"run_id", r["run_id"]}, {"phase", r["phase"]}, {"patchset", r["patchset"]},
                           {"status", r["status"]}, {"cost_cents", r["cost_cents"]}});
      if (r["phase"] == "dev") {
        ++dev_runs;
        patchsets.insert(r["patchset"].get<int64_t>());
      }
      if (r["status"] == "needs-input") ++needs_input;
      cost += r["cost_cents"].get<double>();
    }
    int human = 0, agent = 0;
    bool conflict = false;
    for (const auto& c : comments) {
      if (c["task_id"] != id) continue;
      std::string author = c["author"];
      if (author == "human") ++human;
      if (StartsWith(author, "agent:")) ++agent;
      if ((author == "system") && ContainsNoCase(c["text"], "conflict")) conflict = true;
    }
    j["runs"] = task_runs;
    j["dev_runs"] = dev_runs;
    j["patchsets"] = patchsets.size();
    j["cost_cents"] = cost;
    j["needs_input_runs"] = needs_input;
    j["human_comments"] = human;
    j["agent_comments"] = agent;
    j["conflict"] = conflict;
    j["in_base"] = trailers.count(id) > 0;
    task_list.push_back(std::move(j));
  }

  json run_status = json::object(), run_phase = json::object();
  for (const auto& r : runs) {
    std::string st = r["status"], ph = r["phase"];
    run_status[st] = run_status.value(st, 0) + 1;
    run_phase[ph] = run_phase.value(ph, 0) + 1;
  }

  json domain_list = json::array();
  for (const auto& d : domains) {
    std::string name = d["domain"];
    int64_t spent = 0, granted = 0;
    for (const auto& e : ledger) {
      if (e["domain"] != name) continue;
      if (e["kind"] == "spend") spent += e["cents"].get<int64_t>();
      if (e["kind"] == "grant") granted += e["cents"].get<int64_t>();
    }
    int64_t held = SumWhere(holds, "domain", name, "cents");
    int64_t runs_cost = 0;
    int run_count = 0;
    for (const auto& r : runs) {
      if (r["domain"] != name) continue;
      runs_cost += CentsForSettlement(r["cost_cents"].get<double>());
      if (r["phase"] == "dev") ++run_count;
    }
    int64_t budget = d["budget_cents"];
    domain_list.push_back({{"domain", name},
                           {"budget_cents", budget},
                           {"spent_cents", spent},
                           {"held_cents", held},
                           {"remaining_cents", budget - spent - held},
                           {"granted_cents", granted},
                           {"runs_cost_cents", runs_cost},
                           {"dev_runs", run_count}});
  }

  s["dir"] = facts.dir;
  s["base"] = facts.base;
  s["agent"] = facts.agent;
  s["wall_seconds"] = facts.wall_seconds;
  s["timed_out"] = facts.timed_out;
  s["all_done"] = all_done;
  s["status_counts"] = status_counts;
  s["tasks"] = task_list;
  s["runs"] = {{"total", runs.size()}, {"by_status", run_status}, {"by_phase", run_phase}};
  s["domains"] = domain_list;
  s["interventions"] = facts.interventions;
  s["git_log"] = log_lines;
  return s;
}

std::string FormatDemoSummary(const json& s) {
  std::string out;
  int total = static_cast<int>(s["tasks"].size());
  int done = s["status_counts"].value(TaskStatusName(TaskStatus::kDone), 0);
  out += fmt::format("\n== Summary: {} of {} tasks done in {:.1f} s{}\n\n", done, total, s["wall_seconds"].get<double>(),
                     s["timed_out"].get<bool>() ? " (stopped: time limit reached)" : "");
  out += "Tasks by status:";
  for (const auto& [st, n] : s["status_counts"].items()) out += fmt::format(" {} {}", st, n.get<int>());
  out += "\n\n";
  out += fmt::format("  {:<6} {:<11} {:<8} {:>3} {:>4} {:>6}  {}\n", "task", "status", "domain", "ps", "runs", "cost", "title");
  for (const auto& t : s["tasks"]) {
    std::string note;
    std::string role = t["role"];
    if (role == "fails-verify-once" && t["patchsets"].get<size_t>() >= 2) note = "  <- failed verification, fixed from the feedback";
    if (role == "asks-question" && t["needs_input_runs"].get<int>() > 0)
      note = "  <- asked a question, continued after the answer";
    if (t["conflict"].get<bool>()) note = "  <- merge conflict, redone on the new base";
    out += fmt::format("  {:<6} {:<11} {:<8} {:>3} {:>4} {:>5.0f}c  {}{}\n", t["id"].get<std::string>(),
                       t["status"].get<std::string>(), t["domain"].is_string() ? t["domain"].get<std::string>() : "-",
                       t["patchsets"].get<size_t>(), t["dev_runs"].get<int>(), t["cost_cents"].get<double>(),
                       t["title"].get<std::string>(), note);
  }
  out += "  (ps: patchsets; runs: agent runs, besides verify and integrate runs)\n";
  out += fmt::format("\nRuns: {}", s["runs"]["total"].get<size_t>());
  std::string sep = " (";
  for (const auto& [ph, n] : s["runs"]["by_phase"].items()) {
    out += fmt::format("{}{} {}", sep, ph, n.get<int>());
    sep = ", ";
  }
  if (sep == ", ") out += ")";
  out += ";";
  for (const auto& [st, n] : s["runs"]["by_status"].items()) out += fmt::format(" {} {}", st, n.get<int>());
  out += "\n\nCost per domain (cents):\n";
  out += fmt::format("  {:<8} {:>7} {:>6} {:>5} {:>5}\n", "domain", "budget", "spent", "held", "left");
  for (const auto& d : s["domains"]) {
    std::string note;
    if (d["granted_cents"].get<int64_t>() > 0)
      note = fmt::format("  (+{} granted when what was left could not cover a run's hold)", d["granted_cents"].get<int64_t>());
    out += fmt::format("  {:<8} {:>7} {:>6} {:>5} {:>5}{}\n", d["domain"].get<std::string>(),
                       d["budget_cents"].get<int64_t>(), d["spent_cents"].get<int64_t>(), d["held_cents"].get<int64_t>(),
                       d["remaining_cents"].get<int64_t>(), note);
  }
  if (!s["interventions"].empty()) {
    out += "\nWhat the demo did as a person:\n";
    for (const auto& i : s["interventions"]) out += "  - " + i.get<std::string>() + "\n";
  }
  out += fmt::format("\ngit log --oneline {}:\n", s["base"].get<std::string>());
  for (const auto& l : s["git_log"]) out += "  " + l.get<std::string>() + "\n";
  return out;
}

}  // namespace pipeline::demo
