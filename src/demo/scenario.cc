#include "demo/scenario.h"

#include <string_view>
#include <vector>

#include "demo/backlog.h"
#include "demo/project.h"

namespace pipeline::demo {
namespace {

using nlohmann::json;

// claude-sonnet-4-5 list prices, USD per million tokens. Claude Code computes
// total_cost_usd from the usage the model reports with these.
constexpr double kInputUsdPerMtok = 3.0;
constexpr double kOutputUsdPerMtok = 15.0;
constexpr int64_t kOutputTokensPerTurn = 120;

// Later prompts of the same task, told apart by what the scheduler adds.
constexpr const char* kRejectedText = "previous patchset was rejected";
constexpr const char* kConflictText = "conflicted in:";

// A single-quoted shell word (for the commit message in a Bash turn).
std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out.push_back(c);
  }
  return out + "'";
}

// The last line of the project's first version of path that starts with
// prefix (the line an insertion goes after).
std::string LastLineWithPrefix(const std::string& path, const std::string& prefix) {
  auto it = DemoProjectFiles().find(path);
  if (it == DemoProjectFiles().end()) return "";
  std::string last;
  size_t at = 0;
  const std::string& text = it->second;
  while (at < text.size()) {
    size_t eol = text.find('\n', at);
    std::string line = text.substr(at, eol == std::string::npos ? std::string::npos : eol - at);
    if (line.rfind(prefix, 0) == 0) last = line;
    if (eol == std::string::npos) break;
    at = eol + 1;
  }
  return last;
}

std::string WithoutFinalNewline(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// Claude Code's tool calls for one edit of the scripted agent.
void AppendTurns(const FileOp& op, std::vector<json>& turns) {
  switch (op.kind) {
    case FileOp::Kind::kWrite:
      // Claude Code's Write refuses to overwrite a file it has not read.
      if (DemoProjectFiles().count(op.path)) turns.push_back({{"read", {{"path", op.path}}}});
      turns.push_back({{"text", "Writing " + op.path + "."}, {"write", {{"path", op.path}, {"content", op.text}}}});
      return;
    case FileOp::Kind::kAppend:
      turns.push_back({{"text", "Appending to " + op.path + "."},
                       {"bash", "cat >> " + ShellQuote(op.path) + " <<'TEXTKIT_EOF'\n" + op.text +
                                    (op.text.empty() || op.text.back() != '\n' ? "\n" : "") + "TEXTKIT_EOF"}});
      return;
    case FileOp::Kind::kInsertAfterLast: {
      std::string after = LastLineWithPrefix(op.path, op.anchor);
      turns.push_back({{"read", {{"path", op.path}}}});
      turns.push_back({{"text", "Registering the module in " + op.path + "."},
                       {"edit", {{"path", op.path}, {"old", after}, {"new", after + "\n" + WithoutFinalNewline(op.text)}}}});
      return;
    }
    case FileOp::Kind::kReplace:
      turns.push_back({{"read", {{"path", op.path}}}});
      turns.push_back({{"text", "Fixing " + op.path + "."},
                       {"edit", {{"path", op.path}, {"old", op.anchor}, {"new", op.text}}}});
      return;
  }
}

void CommitTurn(const std::string& message, std::vector<json>& turns) {
  turns.push_back({{"text", "The change is ready; committing it."},
                   {"bash", "git add -A && git commit -q -m " + ShellQuote(message) +
                                " -m \"Task-Id: $PIPELINE_TASK_ID\""}});
}

// Spreads the conversation's cost over its turns as token usage, growing
// input like a real context does, so that Claude Code's total lands a tenth of a
// cent under `cents` (the ledger settles whole cents rounded up: exactly
// `cents`, with no floating-point edge).
void PriceTurns(int64_t cents, std::vector<json>& turns) {
  const int64_t n = static_cast<int64_t>(turns.size());
  const double output_usd = static_cast<double>(n * kOutputTokensPerTurn) * kOutputUsdPerMtok / 1e6;
  const double input_usd = (static_cast<double>(cents) - 0.1) / 100.0 - output_usd;
  const int64_t input_total = static_cast<int64_t>(input_usd * 1e6 / kInputUsdPerMtok);
  // Weights 1..n: turn k gets k/(n(n+1)/2) of the input.
  const int64_t weight_sum = n * (n + 1) / 2;
  int64_t given = 0;
  for (int64_t k = 0; k < n; ++k) {
    int64_t in = k + 1 == n ? input_total - given : input_total * (k + 1) / weight_sum;
    given += in;
    turns[k]["usage"] = {{"input_tokens", in}, {"output_tokens", kOutputTokensPerTurn}};
  }
}

json Conversation(const std::string& name, json match, std::vector<json> turns, int64_t cents) {
  PriceTurns(cents, turns);
  return {{"name", name}, {"match", std::move(match)}, {"turns", std::move(turns)}};
}

// Implements spec with ops (and commits); `from_base` first starts again from
// the base branch (after a merge conflict).
std::vector<json> ImplementTurns(const DemoTaskSpec& spec, const std::vector<FileOp>& ops, bool from_base,
                                 const std::string& message) {
  std::vector<json> turns;
  if (from_base) {
    turns.push_back({{"text", "The branch conflicts with " + std::string(kDemoBaseBranch) +
                                  "; starting again from it and applying the change there."},
                     {"bash", "git reset -q --hard " + std::string(kDemoBaseBranch)}});
  }
  for (const FileOp& op : ops) AppendTurns(op, turns);
  CommitTurn(message, turns);
  turns.push_back({{"text", "Done: " + spec.title + ". Committed on the task branch."}});
  return turns;
}

}  // namespace

json DemoScenario() {
  json conversations = json::array();
  for (const DemoTaskSpec& spec : DemoBacklog()) {
    const std::string marker = DemoMarker(spec.key);
    switch (spec.role) {
      case DemoRole::kFailsVerifyOnce: {
        std::vector<json> fix;
        for (const FileOp& op : spec.fix_ops) AppendTurns(op, fix);
        CommitTurn(spec.title + ": fix the rejected patchset", fix);
        fix.push_back({{"text", "Fixed the loop the tests caught."}});
        conversations.push_back(
            Conversation(spec.key + " (fix)", {marker, kRejectedText}, std::move(fix), spec.retry_cost_cents));
        conversations.push_back(
            Conversation(spec.key, marker, ImplementTurns(spec, spec.buggy_ops, false, spec.title), spec.cost_cents));
        break;
      }
      case DemoRole::kAsksQuestion: {
        conversations.push_back(Conversation(spec.key + " (answered)", {marker, kDemoAnswerKey},
                                             ImplementTurns(spec, spec.ops, false, spec.title), spec.cost_cents));
        std::vector<json> ask = {
            {{"text", "The task does not say which side to pad or with what; asking."},
             {"bash", "pipeline task comment \"$PIPELINE_TASK_ID\" " + ShellQuote(kDemoQuestion)}},
            {{"text", std::string("Asked: ") + kDemoQuestion}}};
        conversations.push_back(Conversation(spec.key + " (question)", marker, std::move(ask), spec.question_cost_cents));
        break;
      }
      case DemoRole::kConflictPair:
        conversations.push_back(Conversation(spec.key + " (redo)", {marker, kConflictText},
                                             ImplementTurns(spec, spec.ops, true, spec.title + " (on the new base)"),
                                             spec.retry_cost_cents));
        conversations.push_back(
            Conversation(spec.key, marker, ImplementTurns(spec, spec.ops, false, spec.title), spec.cost_cents));
        break;
      case DemoRole::kPlain:
        conversations.push_back(
            Conversation(spec.key, marker, ImplementTurns(spec, spec.ops, false, spec.title), spec.cost_cents));
        break;
    }
  }
  return {{"comment", "The textkit demo's model script, written by `pipeline demo`."},
          {"conversations", std::move(conversations)}};
}

double DemoScenarioCostCents(const json& conversation) {
  double usd = 0;
  for (const json& t : conversation["turns"]) {
    const json& u = t["usage"];
    usd += (u.value("input_tokens", 0.0) * kInputUsdPerMtok + u.value("output_tokens", 0.0) * kOutputUsdPerMtok) / 1e6;
  }
  return usd * 100;
}

}  // namespace pipeline::demo
