// `pipeline task`: the task tracker, speaking the seed's `task` protocol
// (PROTOCOL.md sections 2 and 10). Flags go anywhere (the seed puts --json
// last); with --json, stdout holds exactly one JSON document on success and
// nothing on failure; every error is one line on stderr.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/cli_util.h"
#include "cli/commands.h"
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

// Everything a subcommand's options fill in.
struct Opts {
  StoreFlags store;
  std::string id, dep, title, text, from, to, status, file;
  std::optional<std::string> description, description_file, ns, parent, priority, type, deps, tags, complexity,
      author, filter_status;
};

class Runner {
 public:
  explicit Runner(Opts& o) : o_(o) {}

  // Opens the store; returns the exit code on failure.
  std::optional<int> Open() {
    auto paths = FindRoot(o_.store.root);
    if (!paths.ok()) return Fail(paths.error());
    auto db = OpenStore(*paths);
    if (!db.ok()) return Fail(db.error());
    db_ = std::move(db).value();
    // Reading through a memory map saves a read() per page: `ready` over a
    // large backlog touches most of the file once.
    (void)db_->Exec("PRAGMA mmap_size = 268435456");
    store_ = std::make_unique<TaskStore>(*db_, SystemClock());
    return std::nullopt;
  }

  int ShowTask(const std::string& id, const std::string& human) {
    auto t = store_->Get(id);
    if (!t.ok()) return Fail(t.error());
    if (o_.store.json) PrintAsciiJson(TaskToJson(*t));
    else printf("%s\n", human.c_str());
    return 0;
  }

  int PrintTasks(const Result<std::vector<Task>>& r) {
    if (!r.ok()) return Fail(r.error());
    if (o_.store.json) {
      // Written directly, and out in chunks as it is made: a large backlog
      // makes tens of thousands of objects, megabytes of text.
      constexpr size_t kChunk = 1 << 20;
      std::string out = "[";
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
    } else {
      std::string out;
      for (const Task& t : *r) out += OneLine(t) + "\n";
      fwrite(out.data(), 1, out.size(), stdout);
    }
    return 0;
  }

  int Create() {
    NewTask n;
    n.title = o_.title;
    if (o_.description && o_.description_file) return UsageError("give --description or --description-file, not both");
    if (o_.description) n.description = *o_.description;
    if (o_.description_file) {
      if (*o_.description_file == "-") {
        std::stringstream ss;
        ss << std::cin.rdbuf();
        n.description = ss.str();
      } else {
        auto text = ReadFile(*o_.description_file);
        if (!text.ok()) return Fail(text.error());
        n.description = *text;
      }
    }
    n.ns = o_.ns;
    n.parent = o_.parent;
    if (o_.priority) {
      auto p = ParseTaskPriority(*o_.priority);
      if (!p) return UsageError("invalid priority " + Quoted(*o_.priority) + " (P0..P4 or 0..4)");
      n.priority = *p;
    }
    if (o_.type) {
      auto t = ParseTaskType(*o_.type);
      if (!t) return UsageError("invalid type " + Quoted(*o_.type) + " (work or epic)");
      n.type = *t;
    }
    if (o_.complexity) {
      auto c = ParseInt64(*o_.complexity);
      if (!c || *c < 1 || *c > 5) return UsageError("invalid complexity " + Quoted(*o_.complexity) + " (1..5)");
      n.complexity = static_cast<int>(*c);
    }
    if (o_.deps) n.deps = SplitList(*o_.deps);
    if (o_.tags) n.tags = SplitList(*o_.tags);
    if (auto rc = Open()) return *rc;
    auto t = store_->Create(n);
    if (!t.ok()) return Fail(t.error());
    if (o_.store.json) PrintAsciiJson(TaskToJson(*t));
    else printf("Created %s\n", t->id.c_str());
    return 0;
  }

  int List() {
    TaskFilter f;
    if (o_.filter_status) {
      auto st = StatusArg(*o_.filter_status);
      if (!st.ok()) return Fail(st.error());
      f.status = *st;
    }
    f.ns = o_.ns;
    f.parent = o_.parent;
    if (auto rc = Open()) return *rc;
    return PrintTasks(store_->List(f));
  }

  int Ready() {
    if (auto rc = Open()) return *rc;
    return PrintTasks(store_->Ready());
  }

  int Show() {
    if (auto rc = Open()) return *rc;
    auto t = store_->Get(o_.id);
    if (!t.ok()) return Fail(t.error());
    if (o_.store.json) PrintAsciiJson(TaskToJson(*t));
    else PrintHuman(*t);
    return 0;
  }

  int Update() {
    auto to = StatusArg(o_.status);
    if (!to.ok()) return Fail(to.error());
    if (auto rc = Open()) return *rc;
    Status s = store_->SetStatus(o_.id, *to);
    if (!s.ok()) return Fail(s);
    return ShowTask(o_.id, "Updated " + o_.id + ": " + TaskStatusName(*to));
  }

  int Claim() {
    auto from = StatusArg(o_.from);
    if (!from.ok()) return Fail(from.error());
    auto to = StatusArg(o_.to);
    if (!to.ok()) return Fail(to.error());
    if (auto rc = Open()) return *rc;
    Status s = store_->Claim(o_.id, *from, *to);
    if (!s.ok()) return Fail(s);
    return ShowTask(o_.id, "Claimed " + o_.id + ": " + TaskStatusName(*from) + " -> " + TaskStatusName(*to));
  }

  int Comment() {
    std::string author = "human";
    if (const char* env = getenv("PIPELINE_AUTHOR"); env && *env) author = env;
    if (o_.author) author = *o_.author;
    if (auto rc = Open()) return *rc;
    auto c = store_->AddComment(o_.id, o_.text, author);
    if (!c.ok()) return Fail(c.error());
    return ShowTask(o_.id, "Commented on " + o_.id);
  }

  int DepAdd() {
    if (auto rc = Open()) return *rc;
    Status s = store_->AddDependency(o_.id, o_.dep);
    if (!s.ok()) return Fail(s);
    return ShowTask(o_.id, o_.id + " now depends on " + o_.dep);
  }

  int DepRemove() {
    if (auto rc = Open()) return *rc;
    Status s = store_->RemoveDependency(o_.id, o_.dep);
    if (!s.ok()) return Fail(s);
    return ShowTask(o_.id, o_.id + " no longer depends on " + o_.dep);
  }

  int Export() {
    if (auto rc = Open()) return *rc;
    std::ostringstream out;
    Status s = store_->Export(out);
    if (!s.ok()) return Fail(s);
    const std::string& text = out.str();
    if (fwrite(text.data(), 1, text.size(), stdout) != text.size() || fflush(stdout) != 0)
      return Fail(IOError("cannot write the export to stdout"));
    return 0;
  }

  int Import() {
    std::string text;
    if (o_.file.empty() || o_.file == "-") {
      std::stringstream ss;
      ss << std::cin.rdbuf();
      text = ss.str();
    } else {
      auto r = ReadFile(o_.file);
      if (!r.ok()) return Fail(r.error());
      text = std::move(r).value();
    }
    size_t count = 0;
    for (const auto& line : Split(text, '\n'))
      if (!Trim(line).empty()) ++count;
    if (auto rc = Open()) return *rc;
    std::istringstream in(text);
    Status s = store_->Import(in);
    if (!s.ok()) return Fail(s);
    if (o_.store.json) PrintAsciiJson({{"imported", count}});
    else printf("Imported %zu tasks\n", count);
    return 0;
  }

 private:
  Opts& o_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<TaskStore> store_;
};

}  // namespace

int TaskCommand(const Args& args) {
  // The review gate lives with the merge queue; `task approve|reject` is its
  // natural spelling for a person reading a task list.
  if (!args.empty() && (args[0] == "approve" || args[0] == "reject")) return ReviewCommand(args);
  CLI::App app("The task tracker (`task` protocol)", "pipeline task");
  app.footer("Review gate: `pipeline task approve ID`, `pipeline task reject ID WHY`.");
  app.require_subcommand(1);
  Opts o;
  AddStoreFlags(app, &o.store);
  Runner run(o);
  int rc = 0;
  auto sub = [&](const char* name, const char* help, int (Runner::*fn)()) {
    CLI::App* s = app.add_subcommand(name, help);
    AddStoreFlags(*s, &o.store);
    s->callback([&rc, &run, fn] { rc = (run.*fn)(); });
    return s;
  };

  CLI::App* create = sub("create", "Create a task; prints its id (or the task with --json)", &Runner::Create);
  create->add_option("title", o.title, "Title (one line)")->required();
  create->add_option("--description", o.description, "Description text");
  create->add_option("--description-file", o.description_file, "Read the description from a file ('-': stdin)");
  create->add_option("--namespace", o.ns, "Code area, e.g. src/api or docs");
  create->add_option("--parent", o.parent, "Parent task id");
  create->add_option("--priority", o.priority, "P0 (highest) .. P4; default P2");
  create->add_option("--type", o.type, "work (default) or epic");
  create->add_option("--deps", o.deps, "Comma-separated ids this task depends on");
  create->add_option("--tags", o.tags, "Comma-separated tags");
  create->add_option("--complexity", o.complexity, "1..5");

  CLI::App* list = sub("list", "List tasks, oldest first", &Runner::List);
  list->add_option("--status", o.filter_status, "Only this status");
  list->add_option("--namespace", o.ns, "Only this namespace");
  list->add_option("--parent", o.parent, "Only children of this task");

  sub("ready", "Open work tasks whose dependencies are done: P0 first, then oldest", &Runner::Ready);

  sub("show", "Show one task", &Runner::Show)->add_option("id", o.id, "Task id")->required();

  CLI::App* update = sub("update", "Set a task's status (unconditionally)", &Runner::Update);
  update->add_option("id", o.id, "Task id")->required();
  update->add_option("status", o.status, "open, in-progress, needs-help, review, verified or done")->required();

  CLI::App* claim = sub("claim", "Move a task FROM -> TO only if it is in FROM (exit 1 otherwise)", &Runner::Claim);
  claim->add_option("id", o.id, "Task id")->required();
  claim->add_option("from", o.from, "Expected status")->required();
  claim->add_option("to", o.to, "New status")->required();

  CLI::App* comment = sub("comment", "Add a comment to a task", &Runner::Comment);
  comment->add_option("id", o.id, "Task id")->required();
  comment->add_option("text", o.text, "Comment text (one argument)")->required();
  comment->add_option("--author", o.author, "human, system or agent:<role> (default: $PIPELINE_AUTHOR, else human)");

  CLI::App* dep = app.add_subcommand("dep", "Add or remove a dependency");
  dep->require_subcommand(1);
  AddStoreFlags(*dep, &o.store);
  for (auto [name, help, fn] : {std::tuple{"add", "ID now depends on DEP (cycles are refused)", &Runner::DepAdd},
                                std::tuple{"remove", "ID no longer depends on DEP", &Runner::DepRemove}}) {
    CLI::App* s = dep->add_subcommand(name, help);
    AddStoreFlags(*s, &o.store);
    s->add_option("id", o.id, "Task id")->required();
    s->add_option("dep", o.dep, "The task it depends on")->required();
    s->callback([&rc, &run, fn = fn] { rc = (run.*fn)(); });
  }

  sub("export", "Write every task as JSONL (one task per line) on stdout", &Runner::Export);
  sub("import", "Read JSONL tasks (all or nothing; ids are kept)", &Runner::Import)
      ->add_option("file", o.file, "JSONL file, or '-' for stdin (default)");

  if (auto code = ParseArgs(app, args)) return *code;
  return rc;
}

}  // namespace pipeline
