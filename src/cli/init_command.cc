#include <cstdio>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "config/config.h"
#include "sched/preflight.h"
#include "store/root.h"
#include "util/files.h"
#include "util/log.h"

namespace pipeline {

// `pipeline init`: create .pipeline/ (database, folders, a commented config)
// and keep it out of git status. Running it again changes nothing. Outside a
// git repository it still creates the store (shared-workspace use needs no
// git) but says what `pipeline run` will need.
int InitCommand(const Args& args) {
  CLI::App app("Create the pipeline store in this repository", "pipeline init");
  StoreFlags flags;
  AddStoreFlags(app, &flags);
  if (auto rc = ParseArgs(app, args)) return *rc;
  auto paths = RootForInit(flags.root);
  if (!paths.ok()) return Fail(paths.error());
  bool existed = PathExists(paths->db());
  auto db = CreateStore(*paths);
  if (!db.ok()) return Fail(db.error());
  if (!PathExists(paths->config())) {
    Status s = WriteFileAtomic(paths->config(), DefaultConfigText());
    if (!s.ok()) return Fail(s);
  }
  // Keep the store out of `git status` when it sits inside a repository.
  std::string exclude = paths->repo() + "/.git/info/exclude";
  if (IsDirectory(paths->repo() + "/.git/info") || IsDirectory(paths->repo() + "/.git")) {
    (void)MakeDirs(paths->repo() + "/.git/info");
    auto cur = ReadFile(exclude);
    std::string text = cur.ok() ? *cur : "";
    if (text.find("/.pipeline/") == std::string::npos && paths->root == paths->repo() + "/.pipeline") {
      if (!text.empty() && text.back() != '\n') text += "\n";
      text += "/.pipeline/\n";
      (void)WriteFileAtomic(exclude, text);
    }
  }
  // Worktree mode (the default) needs a repository with a commit: say so now,
  // not at the first run.
  std::vector<std::string> warnings;
  CheckResult repo = CheckWorkspace(SchedulerOptions{}, *paths, RealProcessRunner());
  if (repo.level == CheckLevel::kProblem) warnings.push_back(repo.message);
  for (const auto& w : warnings) LogWarning("{}", w);
  if (flags.json) {
    PrintJson({{"root", paths->root}, {"created", !existed}, {"warnings", warnings}});
  } else {
    printf("%s pipeline store at %s\n", existed ? "Found" : "Created", paths->root.c_str());
    printf("Next: choose the agent ([agent] profile) and the check ([verify] command) in %s,\n"
           "then `pipeline doctor` says whether `pipeline run` can start.\n",
           paths->config().c_str());
  }
  return 0;
}

}  // namespace pipeline
