#include "store/root.h"

#include <unistd.h>

#include <cstdlib>

#include "store/schema.h"
#include "util/files.h"

namespace pipeline {

std::string RootPaths::repo() const {
  size_t slash = root.find_last_of('/');
  return slash == 0 ? "/" : root.substr(0, slash);
}

static std::string Cwd() {
  char buf[4096];
  return getcwd(buf, sizeof buf) ? std::string(buf) : std::string(".");
}

static std::string Normalize(const std::string& p) {
  std::string abs = AbsolutePath(p);
  while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
  return abs;
}

Result<RootPaths> FindRoot(const std::optional<std::string>& flag) {
  if (flag && !flag->empty()) return RootPaths{Normalize(*flag)};
  if (const char* env = getenv("PIPELINE_ROOT"); env && *env) return RootPaths{Normalize(env)};
  std::string dir = Cwd();
  while (true) {
    if (IsDirectory(dir + "/.pipeline")) return RootPaths{dir == "/" ? "/.pipeline" : dir + "/.pipeline"};
    if (dir == "/" || dir.empty()) break;
    size_t slash = dir.find_last_of('/');
    dir = slash == 0 ? "/" : dir.substr(0, slash);
  }
  return NotFound("no pipeline store here: run `pipeline init` in your repository, or set PIPELINE_ROOT");
}

Result<RootPaths> RootForInit(const std::optional<std::string>& flag) {
  if (flag && !flag->empty()) return RootPaths{Normalize(*flag)};
  if (const char* env = getenv("PIPELINE_ROOT"); env && *env) return RootPaths{Normalize(env)};
  // The top of the enclosing git repository: the nearest ancestor with .git.
  std::string dir = Cwd();
  std::string probe = dir;
  while (true) {
    if (PathExists(probe + "/.git")) return RootPaths{(probe == "/" ? "" : probe) + "/.pipeline"};
    if (probe == "/" || probe.empty()) break;
    size_t slash = probe.find_last_of('/');
    probe = slash == 0 ? "/" : probe.substr(0, slash);
  }
  return RootPaths{(dir == "/" ? "" : dir) + "/.pipeline"};
}

Status RequireStore(const RootPaths& paths) {
  if (!PathExists(paths.db()))
    return NotFound("no pipeline store at " + paths.root + ": run `pipeline init` first");
  return Status::Ok();
}

Result<std::unique_ptr<Db>> OpenStore(const RootPaths& paths) {
  PL_RETURN_IF_ERROR(RequireStore(paths));
  PL_ASSIGN_OR_RETURN(auto db, Db::Open(paths.db(), /*create=*/false));
  PL_RETURN_IF_ERROR(Migrate(*db));
  return db;
}

Result<std::unique_ptr<Db>> CreateStore(const RootPaths& paths) {
  for (const std::string& d : {paths.root, paths.runs_dir(), paths.prompts_dir(), paths.worktrees_dir()})
    PL_RETURN_IF_ERROR(MakeDirs(d));
  PL_ASSIGN_OR_RETURN(auto db, Db::Open(paths.db(), /*create=*/true));
  PL_RETURN_IF_ERROR(Migrate(*db));
  return db;
}

}  // namespace pipeline
