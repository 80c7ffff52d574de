// Where the store lives, and opening it. One authority for the files under a
// pipeline root (leveldb's filename.h): every path below the root is built here.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "store/db.h"
#include "util/status.h"

namespace pipeline {

// The root directory (".pipeline") and the names of what it holds.
struct RootPaths {
  std::string root;  // absolute
  std::string db() const { return root + "/pipeline.db"; }
  std::string config() const { return root + "/config.toml"; }
  std::string runs_dir() const { return root + "/runs"; }
  std::string prompts_dir() const { return root + "/prompts"; }
  std::string worktrees_dir() const { return root + "/worktrees"; }
  std::string scheduler_lock() const { return root + "/scheduler.lock"; }
  // The git repository the root belongs to (its parent directory).
  std::string repo() const;
};

// Resolution order: explicit flag, then $PIPELINE_ROOT, then the nearest
// ancestor of the cwd holding a ".pipeline" directory. Fails with a message
// that says to run `pipeline init` when none is found.
Result<RootPaths> FindRoot(const std::optional<std::string>& flag);

// The root `pipeline init` creates: flag, $PIPELINE_ROOT, else ".pipeline" at
// the top of the enclosing git repository (or the cwd outside one).
Result<RootPaths> RootForInit(const std::optional<std::string>& flag);

// kNotFound, telling the user to run `pipeline init`, when the root has no database.
Status RequireStore(const RootPaths& paths);

// Opens the store's database, migrating it to the current schema.
Result<std::unique_ptr<Db>> OpenStore(const RootPaths& paths);
// Creates the root, its database and directories (idempotent).
Result<std::unique_ptr<Db>> CreateStore(const RootPaths& paths);

}  // namespace pipeline
