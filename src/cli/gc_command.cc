// `pipeline archive list` and `pipeline gc`: the commits pipeline kept
// because the base did not hold them when a task's branch or worktree went
// (refs/pipeline/archive/<task>/<n>, see git/paths.h). Pipeline never
// deletes them on its own; a person lists them, looks, and removes them.
#include <cstdio>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "git/git.h"
#include "git/paths.h"
#include "store/root.h"

namespace pipeline {
namespace {

struct ArchiveView {
  ArchiveEntry entry;
  int not_on_base = -1;  // commits the base lacks; -1 when there is no base to compare with
};

// The archive refs of the named tasks (all when none is named), each with how
// many of its commits the base lacks.
Result<std::vector<ArchiveView>> LoadArchive(Git& git, const std::vector<std::string>& tasks,
                                             const std::string& base) {
  for (const auto& t : tasks) PL_RETURN_IF_ERROR(ValidateTaskIdForPath(t));
  std::vector<ArchiveEntry> entries;
  if (tasks.empty()) {
    PL_ASSIGN_OR_RETURN(entries, git.ListArchive());
  } else {
    for (const auto& t : tasks) {
      PL_ASSIGN_OR_RETURN(auto some, git.ListArchive(t));
      entries.insert(entries.end(), some.begin(), some.end());
    }
  }
  std::vector<ArchiveView> out;
  for (auto& e : entries) {
    ArchiveView v{std::move(e), -1};
    if (!base.empty()) {
      auto n = git.CommitsAhead(v.entry.sha, "refs/heads/" + base);
      if (n.ok()) v.not_on_base = *n;
    }
    out.push_back(std::move(v));
  }
  return out;
}

nlohmann::json ToJson(const ArchiveView& v) {
  nlohmann::json j = {{"ref", v.entry.ref},    {"task", v.entry.task_id}, {"n", v.entry.n},
                      {"commit", v.entry.sha}, {"subject", v.entry.subject}};
  if (v.not_on_base >= 0) j["commits_not_on_base"] = v.not_on_base;
  return j;
}

std::string Describe(const ArchiveView& v, const std::string& base) {
  std::string s = v.entry.ref + " " + v.entry.sha.substr(0, 12);
  if (v.not_on_base >= 0) s += " (" + std::to_string(v.not_on_base) + " commits not on " + base + ")";
  return s + " " + v.entry.subject;
}

struct Common {
  StoreFlags flags;
  std::string base;
  std::vector<std::string> tasks;
};

void AddCommon(CLI::App& app, Common* c) {
  AddStoreFlags(app, &c->flags);
  app.add_option("--base", c->base, "Branch to compare with (default: the repository's current branch)");
  app.add_option("--task", c->tasks, "Only this task's archive (repeatable)");
}

// The repository and the base to compare with (empty when HEAD is detached
// and none was named: the counts are then left out).
Result<std::pair<RootPaths, std::string>> Open(const Common& c) {
  PL_ASSIGN_OR_RETURN(RootPaths paths, FindRoot(c.flags.root));
  std::string base = c.base;
  if (base.empty()) {
    Git git(RealProcessRunner(), paths.repo());
    auto cur = git.CurrentBranch();
    if (cur.ok()) base = *cur;
  }
  return std::make_pair(std::move(paths), std::move(base));
}

}  // namespace

int ArchiveCommand(const Args& args) {
  CLI::App app("Commits kept from tasks whose branch or worktree was removed before the base held them",
               "pipeline archive");
  app.require_subcommand(1);
  app.fallthrough();
  Common c;
  auto* list = app.add_subcommand("list", "List the archive refs (refs/pipeline/archive/<task>/<n>)");
  AddCommon(*list, &c);
  if (auto rc = ParseArgs(app, args)) return *rc;
  auto opened = Open(c);
  if (!opened.ok()) return Fail(opened.error());
  auto& [paths, base] = *opened;
  Git git(RealProcessRunner(), paths.repo());
  auto views = LoadArchive(git, c.tasks, base);
  if (!views.ok()) return Fail(views.error());
  if (c.flags.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& v : *views) arr.push_back(ToJson(v));
    PrintJson(arr);
    return 0;
  }
  for (const auto& v : *views) printf("%s\n", Describe(v, base).c_str());
  if (views->empty()) fprintf(stderr, "no archived commits\n");
  return 0;
}

int GcCommand(const Args& args) {
  CLI::App app("Remove archive refs: commits pipeline kept for you (see `pipeline archive list`)", "pipeline gc");
  Common c;
  AddCommon(app, &c);
  bool dry_run = false;
  app.add_flag("--dry-run,-n", dry_run, "Only print what would be removed");
  if (auto rc = ParseArgs(app, args)) return *rc;
  auto opened = Open(c);
  if (!opened.ok()) return Fail(opened.error());
  auto& [paths, base] = *opened;
  Git git(RealProcessRunner(), paths.repo());
  auto views = LoadArchive(git, c.tasks, base);
  if (!views.ok()) return Fail(views.error());
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& v : *views) {
    if (!dry_run) {
      // Only if it still names what was listed: a ref moved meanwhile is kept.
      Status st = git.DeleteRef(v.entry.ref, v.entry.sha);
      if (!st.ok()) return Fail(st.error());
    }
    if (c.flags.json) arr.push_back(ToJson(v));
    else printf("%s %s\n", dry_run ? "would remove" : "removed", Describe(v, base).c_str());
  }
  if (c.flags.json) PrintJson(nlohmann::json{{"dry_run", dry_run}, {"refs", arr}});
  else if (views->empty()) fprintf(stderr, "nothing to remove\n");
  return 0;
}

}  // namespace pipeline
