#include "demo/agent.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "demo/backlog.h"
#include "demo/project.h"
#include "demo/stream_json.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline::demo {
namespace {

constexpr const char* kRejectedPhrase = "previous patchset was rejected";
constexpr const char* kAgentName = "textkit agent";
constexpr const char* kAgentEmail = "agent@textkit.invalid";

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}


// The value after "key:" on a frontmatter line, quotes removed.
std::string FrontmatterValue(const std::string& prompt, const std::string& key) {
  if (!StartsWith(prompt, "---")) return "";
  size_t end = prompt.find("\n---", 3);
  std::string block = prompt.substr(0, end == std::string::npos ? 0 : end);
  for (const std::string& line : Split(block, '\n')) {
    if (!StartsWith(line, key + ":")) continue;
    std::string v = Trim(line.substr(key.size() + 1));
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
    return v;
  }
  return "";
}

std::string ScriptKeyIn(const std::string& text) {
  const std::string marker = DemoMarker("");
  size_t at = text.find(marker);
  if (at == std::string::npos) return "";
  size_t p = at + marker.size(), q = p;
  while (q < text.size() && (std::isalnum(static_cast<unsigned char>(text[q])) || text[q] == '-' || text[q] == '_')) ++q;
  return text.substr(p, q - p);
}

// Runs `pipeline task show ID --json` as any agent could, for what the prompt
// did not carry (the description's marker, the person's answer).
void ConsultTracker(ProcessRunner& runner, const std::string& bin, const std::string& task_id, PromptFacts* facts) {
  if (task_id.empty() || bin.empty()) return;
  Command cmd;
  cmd.argv = {bin, "task", "show", task_id, "--json"};
  cmd.timeout_ms = 30000;
  auto r = runner.Run(cmd);
  if (!r.ok() || !r->ok()) return;
  auto j = nlohmann::json::parse(r->out, nullptr, false);
  if (!j.is_object()) return;
  if (facts->script_key.empty() && j.value("taskDescription", nlohmann::json()).is_string()) {
    facts->script_key = ScriptKeyIn(j["taskDescription"].get<std::string>());
  }
  if (j.contains("taskComments") && j["taskComments"].is_array()) {
    for (const auto& c : j["taskComments"]) {
      if (!c.is_object() || !c.value("commentText", nlohmann::json()).is_string()) continue;
      if (c.value("commentAuthor", std::string()) == "human" &&
          c["commentText"].get<std::string>().find(kDemoAnswerKey) != std::string::npos) {
        facts->answered = true;
      }
    }
  }
}

std::string CommitMessage(const DemoTaskSpec& spec, AgentAction action, const PromptFacts& facts,
                          const std::string& base, const std::string& task_id) {
  std::string msg = spec.title;
  if (action == AgentAction::kFixed) {
    msg = spec.title + ": fix the rejected patchset\n\nThe previous patchset was rejected";
    if (!facts.feedback.empty()) msg += ": " + TruncateUtf8(facts.feedback, 200);
    msg += ".";
  } else if (action == AgentAction::kRedone) {
    msg += "\n\nRedone on top of " + base + ": the previous patchset did not merge.";
  }
  return msg + "\n\nTask-Id: " + task_id + "\n";
}

nlohmann::json ToolInput(const FileOp& op, const std::string& ws) {
  std::string path = JoinPath(ws, op.path);
  switch (op.kind) {
    case FileOp::Kind::kWrite: return {{"file_path", path}, {"content", op.text}};
    case FileOp::Kind::kReplace: return {{"file_path", path}, {"old_string", op.anchor}, {"new_string", op.text}};
    default: return {{"file_path", path}, {"old_string", ""}, {"new_string", op.text}};
  }
}

}  // namespace

const char* AgentActionName(AgentAction a) {
  switch (a) {
    case AgentAction::kImplemented: return "implemented";
    case AgentAction::kFixed: return "fixed";
    case AgentAction::kRedone: return "redone";
    case AgentAction::kAsked: return "asked";
    case AgentAction::kNothingToDo: return "nothing-to-do";
  }
  return "nothing-to-do";
}

PromptFacts ReadPromptFacts(const std::string& prompt) {
  PromptFacts f;
  f.task_id = FrontmatterValue(prompt, "task_id");
  if (f.task_id.empty()) {
    size_t at = prompt.find("Task ID:");
    if (at != std::string::npos) {
      size_t eol = prompt.find('\n', at);
      f.task_id = Trim(prompt.substr(at + 8, eol == std::string::npos ? std::string::npos : eol - at - 8));
    }
  }
  f.script_key = ScriptKeyIn(prompt);
  f.answered = prompt.find(kDemoAnswerKey) != std::string::npos;
  std::string lower = Lower(prompt);
  size_t rej = lower.find(kRejectedPhrase);
  if (rej != std::string::npos) {
    f.rejected = true;
    // The rejection runs to the next heading (or a few KB): only that part
    // decides whether it was a conflict, not the rules elsewhere in the prompt.
    size_t from = rej + std::string(kRejectedPhrase).size();
    size_t to = lower.find("\n#", from);
    std::string region = lower.substr(from, std::min(to == std::string::npos ? lower.size() : to, from + 8192) - from);
    f.conflict = region.find("conflict") != std::string::npos;
    std::string original = prompt.substr(from, region.size());
    if (!original.empty() && original.front() == ':') original.erase(0, 1);
    for (const std::string& line : Split(original, '\n')) {
      std::string t = Trim(line);
      if (!t.empty() && !StartsWith(t, "```")) {
        f.feedback = t;
        break;
      }
    }
  }
  return f;
}

Result<DemoAgentReport> RunDemoAgent(ProcessRunner& runner, const DemoAgentOptions& opts, std::ostream& out) {
  std::string ws = opts.workspace.empty() ? AbsolutePath(".") : opts.workspace;
  std::string session = "demo-" + std::to_string(getpid());
  StreamJsonWriter w(out, session);
  w.Init(ws);
  auto fail = [&](const Error& e) -> Result<DemoAgentReport> {
    w.Result(0, "error: " + e.message, true);
    return e;
  };

  auto prompt = ReadFile(opts.prompt_path);
  if (!prompt.ok()) return fail(prompt.error());
  PromptFacts facts = ReadPromptFacts(*prompt);
  std::string task_id = !opts.task_id.empty() ? opts.task_id : facts.task_id;
  std::string bin = opts.pipeline_bin.empty() ? SelfExePath() : opts.pipeline_bin;
  const DemoTaskSpec* spec = FindDemoTask(facts.script_key);
  if (!spec || (spec->role == DemoRole::kAsksQuestion && !facts.answered)) {
    ConsultTracker(runner, bin, task_id, &facts);
    spec = FindDemoTask(facts.script_key);
  }
  if (task_id.empty()) return fail(InvalidArgument("the prompt names no task (no task_id and no \"Task ID:\" line)"));
  if (!spec) return fail(NotFound("task " + task_id + " has no demo script (no \"" + DemoMarker("KEY") + "\" line)"));

  auto conventions = ReadFile(JoinPath(ws, "AGENTS.md"));
  std::string read_id = w.Assistant("Reading the task and the project's conventions.", "Read",
                                    {{"file_path", JoinPath(ws, "AGENTS.md")}});
  w.ToolResult(read_id, conventions.ok() ? TruncateUtf8(*conventions, 300) : "(no AGENTS.md)");

  DemoAgentReport report;
  if (spec->role == DemoRole::kAsksQuestion && !facts.answered) {
    std::string author = opts.author.empty() ? "agent:engineer" : opts.author;
    std::string ask_id = w.Assistant("The task does not say which side to pad, nor with what. Asking before guessing.",
                                     "Bash", {{"command", "pipeline task comment " + task_id + " " + Quoted(kDemoQuestion)}});
    Command cmd;
    cmd.argv = {bin, "task", "comment", task_id, kDemoQuestion, "--author", author};
    cmd.cwd = ws;
    cmd.timeout_ms = 30000;
    PL_ASSIGN_OR_RETURN(CommandResult r, runner.Run(cmd));
    w.ToolResult(ask_id, Trim(r.out + r.err), !r.ok());
    if (!r.ok()) return fail(IOError("pipeline task comment failed: " + SingleLine(Trim(r.err))));
    w.Assistant("I asked on the task and will continue once it is answered.", "", nullptr);
    report.action = AgentAction::kAsked;
    report.cost_cents = spec->question_cost_cents;
    w.Result(report.cost_cents, std::string("Asked: ") + kDemoQuestion, false);
    return report;
  }

  std::vector<FileOp> ops = spec->ops;
  report.action = AgentAction::kImplemented;
  report.cost_cents = spec->cost_cents;
  if (facts.conflict) {
    std::string id = w.Assistant("The previous patchset did not merge. Starting again from " + opts.base + ".",
                                 "Bash", {{"command", "git reset --hard " + opts.base}});
    auto r = RunGit(runner, ws, {"reset", "-q", "--hard", opts.base});
    w.ToolResult(id, r.ok() ? "HEAD is now at " + opts.base : r.message(), !r.ok());
    if (!r.ok()) return fail(r.error());
    report.action = AgentAction::kRedone;
    report.cost_cents = spec->retry_cost_cents;
  } else if (spec->role == DemoRole::kFailsVerifyOnce && !facts.rejected) {
    ops = spec->buggy_ops;
  } else if (facts.rejected) {
    report.cost_cents = spec->retry_cost_cents;
    bool has_bug = false;
    if (spec->role == DemoRole::kFailsVerifyOnce) {
      for (const FileOp& op : spec->fix_ops) {
        auto text = ReadFile(JoinPath(ws, op.path));
        if (text.ok() && text->find(spec->bug_signature) != std::string::npos) has_bug = true;
      }
    }
    if (has_bug) {
      ops = spec->fix_ops;
      report.action = AgentAction::kFixed;
    }
  }

  for (const FileOp& op : ops) {
    std::string tool = op.kind == FileOp::Kind::kWrite ? "Write" : "Edit";
    std::string why = report.action == AgentAction::kFixed ? "The tests caught a bug; fixing " : "Editing ";
    std::string id = w.Assistant(why + op.path + ".", tool, ToolInput(op, ws));
    Status s = ApplyOps(ws, {op});
    w.ToolResult(id, s.ok() ? "ok" : s.message(), !s.ok());
    if (!s.ok()) return fail(s.error());
  }

  if (auto added = RunGit(runner, ws, {"add", "-A"}); !added.ok()) return fail(added.error());
  auto changes = RunGit(runner, ws, {"status", "--porcelain"});
  if (!changes.ok()) return fail(changes.error());
  if (changes->empty()) {
    w.Assistant("Nothing is left to change: the task is already implemented here.", "", nullptr);
    report.action = AgentAction::kNothingToDo;
    w.Result(report.cost_cents, "Nothing to change.", false);
    return report;
  }
  std::string msg = CommitMessage(*spec, report.action, facts, opts.base, task_id);
  std::string commit_id = w.Assistant("Committing.", "Bash", {{"command", "git commit -am " + Quoted(spec->title)}});
  auto c = RunGit(runner, ws,
                  {"-c", std::string("user.name=") + kAgentName, "-c", std::string("user.email=") + kAgentEmail,
                   "commit", "-q", "-m", msg});
  w.ToolResult(commit_id, c.ok() ? "committed" : c.message(), !c.ok());
  if (!c.ok()) return fail(c.error());
  auto head = RunGit(runner, ws, {"rev-parse", "HEAD"});
  if (!head.ok()) return fail(head.error());
  report.commit = *head;
  std::string summary = std::string(AgentActionName(report.action)) + " " + task_id + " (" + spec->title + ") in " +
                        head->substr(0, 12);
  w.Assistant(summary, "", nullptr);
  w.Result(report.cost_cents, summary, false);
  return report;
}

}  // namespace pipeline::demo
