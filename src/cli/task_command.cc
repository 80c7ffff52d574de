// `pipeline task`: the task tracker, speaking the `task` protocol
// (docs/protocol.md, "task"). Flags go anywhere (the scheduler puts --json
// last); with --json, stdout holds exactly one JSON document on success and
// nothing on failure; every error is one line on stderr. One handler per
// subcommand, found through the table at the end (cli/dispatch.h).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/dispatch.h"
#include "sandbox/in_run_cli.h"
#include "store/root.h"
#include "tasks/task_store.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline {

namespace {

// ASCII output (non-ASCII escaped): a reader under LANG=C decodes it too. All
// stored text is valid UTF-8, so nothing is lost.
void PrintAsciiJson(const nlohmann::json& j) {
  std::string s = j.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
  s.push_back('\n');
  fwrite(s.data(), 1, s.size(), stdout);
  fflush(stdout);
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  for (const auto& part : Split(s, ',')) {
    std::string p = Trim(part);
    if (!p.empty()) out.push_back(p);
  }
  return out;
}

Result<TaskStatus> StatusArg(const std::string& s) {
  if (auto st = ParseTaskStatus(s)) return *st;
  return InvalidArgument("invalid status " + Quoted(s) + " (open, in-progress, needs-help, review, verified, done)");
}

std::string OneLine(const Task& t) {
  return t.id + "\t" + TaskStatusName(t.status) + "\tP" + std::to_string(t.priority) + "\t" + t.ns.value_or("-") +
         "\t" + t.title;
}

void PrintHuman(const Task& t) {
  printf("%s  %s  [%s]  P%d  %s\n", t.id.c_str(), t.title.c_str(), TaskStatusName(t.status), t.priority,
         t.type.c_str());
  if (t.ns) printf("namespace:   %s\n", t.ns->c_str());
  if (t.parent) printf("parent:      %s\n", t.parent->c_str());
  if (t.complexity) printf("complexity:  %d\n", *t.complexity);
  if (!t.deps.empty()) {
    std::string d;
    for (const auto& x : t.deps) d += (d.empty() ? "" : ", ") + x;
    printf("depends on:  %s\n", d.c_str());
  }
  if (!t.tags.empty()) {
    std::string d;
    for (const auto& x : t.tags) d += (d.empty() ? "" : ", ") + x;
    printf("tags:        %s\n", d.c_str());
  }
  printf("patchsets:   %lld\n", static_cast<long long>(t.patchset));
  printf("created:     %s\nupdated:     %s\n", FormatIso8601(t.created_at).c_str(), FormatIso8601(t.updated_at).c_str());
  if (!t.description.empty()) printf("\n%s\n", t.description.c_str());
  if (!t.comments.empty()) printf("\ncomments:\n");
  for (const auto& c : t.comments)
    printf("  [%s] %s  %s\n", c.author.c_str(), FormatIso8601(c.created_at).c_str(), c.text.c_str());
}

// The store a subcommand works on, opened from its --root.
struct OpenTasks {
  std::unique_ptr<Db> db;
  std::unique_ptr<TaskStore> store;
};

Result<OpenTasks> Open(const StoreFlags& flags) {
  PL_ASSIGN_OR_RETURN(RootPaths paths, FindRoot(flags.root));
  OpenTasks o;
  PL_ASSIGN_OR_RETURN(o.db, OpenStore(paths));
  // Reading through a memory map saves a read() per page: `ready` over a
  // large backlog touches most of the file once.
  (void)o.db->Exec("PRAGMA mmap_size = 268435456");
  o.store = std::make_unique<TaskStore>(*o.db, SystemClock());
  return o;
}

// After a change: the task as JSON with --json, else the human line.
int ShowTask(const OpenTasks& t, const StoreFlags& flags, const std::string& id, const std::string& human) {
  auto task = t.store->Get(id);
  if (!task.ok()) return Fail(task.error());
  if (flags.json) PrintAsciiJson(TaskToJson(*task));
  else printf("%s\n", human.c_str());
  return 0;
}

int PrintTasks(const StoreFlags& flags, const Result<std::vector<Task>>& r) {
  if (!r.ok()) return Fail(r.error());
  std::string out;
  if (!flags.json) {
    for (const Task& t : *r) out += OneLine(t) + "\n";
    fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  // Written directly, and out in chunks as it is made: a large backlog
  // makes tens of thousands of objects, megabytes of text.
  constexpr size_t kChunk = 1 << 20;
  out = "[";
  out.reserve(kChunk + (64 << 10));
  for (size_t i = 0; i < r->size(); ++i) {
    if (i) out.push_back(',');
    AppendTaskJsonText(&out, (*r)[i]);
    if (out.size() >= kChunk) {
      fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  out.append("]\n");
  fwrite(out.data(), 1, out.size(), stdout);
  fflush(stdout);
  return 0;
}

// A file's text, or stdin's for "-" (and for "" when allowed).
Result<std::string> ReadInput(const std::string& path) {
  if (path.empty() || path == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  return ReadFile(path);
}

struct CreateFlags {
  std::string title;
  std::optional<std::string> description, description_file, ns, parent, priority, type, deps, tags, complexity;
};

void AddCreateFlags(CLI::App& app, CreateFlags* f) {
  app.add_option("title", f->title, "Title (one line)")->required();
  app.add_option("--description", f->description, "Description text");
  app.add_option("--description-file", f->description_file, "Read the description from a file ('-': stdin)");
  app.add_option("--namespace", f->ns, "Code area, e.g. Omni/Pipeline.hs");
  app.add_option("--parent", f->parent, "Parent task id");
  app.add_option("--priority", f->priority, "P0 (highest) .. P4; default P2");
  app.add_option("--type", f->type, "work (default) or epic");
  app.add_option("--deps", f->deps, "Comma-separated ids this task depends on");
  app.add_option("--tags", f->tags, "Comma-separated tags");
  app.add_option("--complexity", f->complexity, "1..5");
}

// Checks every value before the store is opened: bad input changes nothing.
Result<NewTask> NewTaskFrom(const CreateFlags& f) {
  NewTask n;
  n.title = f.title;
  if (f.description && f.description_file)
    return InvalidArgument("give --description or --description-file, not both");
  if (f.description) n.description = *f.description;
  if (f.description_file) {
    PL_ASSIGN_OR_RETURN(n.description, ReadInput(*f.description_file));
  }
  n.ns = f.ns;
  n.parent = f.parent;
  if (f.priority) {
    auto p = ParseTaskPriority(*f.priority);
    if (!p) return InvalidArgument("invalid priority " + Quoted(*f.priority) + " (P0..P4 or 0..4)");
    n.priority = *p;
  }
  if (f.type) {
    auto t = ParseTaskType(*f.type);
    if (!t) return InvalidArgument("invalid type " + Quoted(*f.type) + " (work or epic)");
    n.type = *t;
  }
  if (f.complexity) {
    auto c = ParseInt64(*f.complexity);
    if (!c || *c < 1 || *c > 5) return InvalidArgument("invalid complexity " + Quoted(*f.complexity) + " (1..5)");
    n.complexity = static_cast<int>(*c);
  }
  if (f.deps) n.deps = SplitList(*f.deps);
  if (f.tags) n.tags = SplitList(*f.tags);
  return n;
}

int TaskCreate(const Args& args) {
  CLI::App app("Create a task; prints its id (or the task with --json)", "pipeline task create");
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  CreateFlags f;
  AddCreateFlags(app, &f);
  if (auto rc = ParseArgs(app, args)) return *rc;
  auto n = NewTaskFrom(f);
  if (!n.ok()) return Fail(n.error());
  auto t = Open(flags);
  if (!t.ok()) return Fail(t.error());
  auto task = t->store->Create(*n);
  if (!task.ok()) return Fail(task.error());
  if (flags.json) PrintAsciiJson(TaskToJson(*task));
  else printf("Created %s\n", task->id.c_str());
  return 0;
}

int TaskList(const Args& args) {
  CLI::App app("List tasks, oldest first", "pipeline task list");
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  std::optional<std::string> status;
  TaskFilter f;
  app.add_option("--status", status, "Only this status");
  app.add_option("--namespace", f.ns, "Only this namespace");
  app.add_option("--parent", f.parent, "Only children of this task");
  if (auto rc = ParseArgs(app, args)) return *rc;
  if (status) {
    auto st = StatusArg(*status);
    if (!st.ok()) return Fail(st.error());
    f.status = *st;
  }
  auto t = Open(flags);
  if (!t.ok()) return Fail(t.error());
  return PrintTasks(flags, t->store->List(f));
}

int TaskReady(const Args& args) {
  CLI::App app("Open work tasks whose dependencies are done: P0 first, then oldest", "pipeline task ready");
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  if (auto rc = ParseArgs(app, args)) return *rc;
  auto t = Open(flags);
  if (!t.ok()) return Fail(t.error());
  return PrintTasks(flags, t->store->Ready());
}

int TaskShow(const Args& args) {
  CLI::App app("Show one task", "pipeline task show");
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  std::string id;
  app.add_option("id", id, "Task id")->required();
  if (auto rc = ParseArgs(app, args)) return *rc;
  auto t = Open(flags);
  if (!t.ok()) return Fail(t.error());
  auto task = t->store->Get(id);
  if (!task.ok()) return Fail(task.error());
  if (flags.json) PrintAsciiJson(TaskToJson(*task));
  else PrintHuman(*task);
  return 0;
}

int TaskUpdate(const Args& args) {
  CLI::App app("Set a task's status (unconditionally)", "pipeline task update");
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  std::string id, status;
  app.add_option("id", id, "Task id")->required();
  app.add_option("status", status, "open, in-progress, needs-help, review, verified or done")->required();
  if (auto rc = ParseArgs(app, args)) return *rc;
  auto to = StatusArg(status);
  if (!to.ok()) return Fail(to.error());
  auto t = Open(flags);
  if (!t.ok()) return Fail(t.error());
  if (Status s = t->store->SetStatus(id, *to); !s.ok()) return Fail(s);
  return ShowTask(*t, flags, id, "Updated " + id + ": " + TaskStatusName(*to));
}

int TaskClaim(const Args& args) {
  CLI::App app("Move a task FROM -> TO only if it is in FROM (exit 1 otherwise)", "pipeline task claim");
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  std::string id, from_arg, to_arg;
  app.add_option("id", id, "Task id")->required();
  app.add_option("from", from_arg, "Expected status")->required();
  app.add_option("to", to_arg, "New status")->required();
  if (auto rc = ParseArgs(app, args)) return *rc;
  auto from = StatusArg(from_arg);
  if (!from.ok()) return Fail(from.error());
  auto to = StatusArg(to_arg);
  if (!to.ok()) return Fail(to.error());
  auto t = Open(flags);
  if (!t.ok()) return Fail(t.error());
  if (Status s = t->store->Claim(id, *from, *to); !s.ok()) return Fail(s);
  return ShowTask(*t, flags, id, "Claimed " + id + ": " + TaskStatusName(*from) + " -> " + TaskStatusName(*to));
}

int TaskComment(const Args& args) {
  CLI::App app("Add a comment to a task", "pipeline task comment");
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  std::string id, text, author = "human";
  if (const char* env = getenv("PIPELINE_AUTHOR"); env && *env) author = env;
  app.add_option("id", id, "Task id")->required();
  app.add_option("text", text, "Comment text (one argument)")->required();
  app.add_option("--author", author, "human, system or agent:<role> (default: $PIPELINE_AUTHOR, else human)");
  if (auto rc = ParseArgs(app, args)) return *rc;
  auto t = Open(flags);
  if (!t.ok()) return Fail(t.error());
  auto c = t->store->AddComment(id, text, author);
  if (!c.ok()) return Fail(c.error());
  return ShowTask(*t, flags, id, "Commented on " + id);
}

// `task dep add|remove ID DEP`: one handler for both directions.
int TaskDep(const Args& args, bool add) {
  CLI::App app(add ? "ID now depends on DEP (cycles are refused)" : "ID no longer depends on DEP",
               add ? "pipeline task dep add" : "pipeline task dep remove");
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  std::string id, dep;
  app.add_option("id", id, "Task id")->required();
  app.add_option("dep", dep, "The task it depends on")->required();
  if (auto rc = ParseArgs(app, args)) return *rc;
  auto t = Open(flags);
  if (!t.ok()) return Fail(t.error());
  Status s = add ? t->store->AddDependency(id, dep) : t->store->RemoveDependency(id, dep);
  if (!s.ok()) return Fail(s);
  return ShowTask(*t, flags, id, id + (add ? " now depends on " : " no longer depends on ") + dep);
}
int TaskDepAdd(const Args& args) { return TaskDep(args, true); }
int TaskDepRemove(const Args& args) { return TaskDep(args, false); }

int TaskDepGroup(const Args& args) {
  static const CommandGroup kDep = {"pipeline task dep",
                                    "Add or remove a dependency",
                                    {{"add", "ID now depends on DEP (cycles are refused)", TaskDepAdd},
                                     {"remove", "ID no longer depends on DEP", TaskDepRemove}}};
  return Dispatch(kDep, args);
}

int TaskExport(const Args& args) {
  CLI::App app("Write every task as JSONL (one task per line) on stdout", "pipeline task export");
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  if (auto rc = ParseArgs(app, args)) return *rc;
  auto t = Open(flags);
  if (!t.ok()) return Fail(t.error());
  std::ostringstream out;
  if (Status s = t->store->Export(out); !s.ok()) return Fail(s);
  const std::string& text = out.str();
  if (fwrite(text.data(), 1, text.size(), stdout) != text.size() || fflush(stdout) != 0)
    return Fail(IOError("cannot write the export to stdout"));
  return 0;
}

int TaskImport(const Args& args) {
  CLI::App app("Read JSONL tasks (all or nothing; ids are kept)", "pipeline task import");
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  std::string file;
  app.add_option("file", file, "JSONL file, or '-' for stdin (default)");
  if (auto rc = ParseArgs(app, args)) return *rc;
  auto text = ReadInput(file);
  if (!text.ok()) return Fail(text.error());
  size_t count = 0;
  for (const auto& line : Split(*text, '\n'))
    if (!Trim(line).empty()) ++count;
  auto t = Open(flags);
  if (!t.ok()) return Fail(t.error());
  std::istringstream in(*text);
  if (Status s = t->store->Import(in); !s.ok()) return Fail(s);
  if (flags.json) PrintAsciiJson({{"imported", count}});
  else printf("Imported %zu tasks\n", count);
  return 0;
}

}  // namespace

int TaskCommand(const Args& args) {
  if (auto rc = InsideRunCommand("task", args)) return *rc;  // a confined run reaches its monitor only
  static const CommandGroup kTask = {
      "pipeline task",
      "The task tracker (the `task` protocol, docs/protocol.md)",
      {
          {"create", "Create a task; prints its id (or the task with --json)", TaskCreate},
          {"list", "List tasks, oldest first", TaskList},
          {"ready", "Open work tasks whose dependencies are done: P0 first, then oldest", TaskReady},
          {"show", "Show one task", TaskShow},
          {"update", "Set a task's status (unconditionally)", TaskUpdate},
          {"claim", "Move a task FROM -> TO only if it is in FROM (exit 1 otherwise)", TaskClaim},
          {"comment", "Add a comment to a task", TaskComment},
          {"dep", "Add or remove a dependency (dep add|remove ID DEP)", TaskDepGroup},
          {"export", "Write every task as JSONL (one task per line) on stdout", TaskExport},
          {"import", "Read JSONL tasks (all or nothing; ids are kept)", TaskImport},
          // The review gate lives with the merge queue; `task approve|reject`
          // is its natural spelling for a person reading a task list.
          {"approve", "review -> verified (same as `pipeline review approve`)", ReviewApproveCommand},
          {"reject", "review -> open with feedback (same as `pipeline review reject`)", ReviewRejectCommand},
      },
  };
  return Dispatch(kTask, args);
}

}  // namespace pipeline
