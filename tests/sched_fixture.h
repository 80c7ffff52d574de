// A repository with a pipeline store, for black-box tests of `pipeline run`:
// tasks are created through the library (fast), the scheduler is always the
// built binary.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "store/root.h"
#include "tasks/task_store.h"
#include "testutil/testutil.h"
#include "util/clock.h"

namespace pipeline::testing {

class SchedRepo {
 public:
  // config: extra TOML appended after the defaults below.
  explicit SchedRepo(const std::string& config, bool git = true) {
    if (git) InitGitRepo(dir_.path());
    auto init = RunPipeline({"init"}, dir_.path());
    EXPECT_TRUE(init.ok()) << init.err;
    paths_.root = dir_.path() + "/.pipeline";
    WriteTextFile(paths_.config(), config);
  }
  const std::string& dir() const { return dir_.path(); }
  const RootPaths& paths() const { return paths_; }
  std::string agent(const std::string& name) const { return SourceDir() + "/tests/agents/" + name; }

  std::unique_ptr<Db> Open() {
    auto db = OpenStore(paths_);
    EXPECT_TRUE(db.ok()) << db.message();
    return db.ok() ? std::move(*db) : nullptr;
  }
  // Creates a task; returns its id.
  std::string Task(const std::string& title, const std::optional<std::string>& ns,
                   const std::vector<std::string>& deps = {}) {
    auto db = Open();
    TaskStore store(*db, SystemClock());
    NewTask t;
    t.title = title;
    t.ns = ns;
    t.deps = deps;
    auto r = store.Create(t);
    EXPECT_TRUE(r.ok()) << r.message();
    return r.ok() ? r->id : "";
  }
  CommandResult Run(std::vector<std::string> args, int64_t timeout_ms = 60000) {
    args.insert(args.begin(), "run");
    return RunPipeline(args, dir_.path(), {}, timeout_ms);
  }
  // One integer from a query.
  int64_t Int(const std::string& sql) {
    auto db = Open();
    auto s = db->Prepare(sql);
    EXPECT_TRUE(s.ok()) << sql;
    auto row = s->Step();
    EXPECT_TRUE(row.ok() && *row) << sql;
    return s->Int(0);
  }
  std::string Text(const std::string& sql) {
    auto db = Open();
    auto s = db->Prepare(sql);
    EXPECT_TRUE(s.ok()) << sql;
    auto row = s->Step();
    return row.ok() && *row ? s->Text(0) : "";
  }
  std::string Status(const std::string& id) { return Text("SELECT status FROM tasks WHERE id = '" + id + "'"); }

 private:
  TempDir dir_;
  RootPaths paths_;
};

// The TOML of a profile running argv (no prompt needed).
inline std::string ProfileToml(const std::string& name, const std::vector<std::string>& argv) {
  std::string s = "[profiles." + name + "]\ncommand = [";
  for (size_t i = 0; i < argv.size(); ++i) s += (i ? ", \"" : "\"") + argv[i] + "\"";
  return s + "]\nreader = \"command\"\n";
}

}  // namespace pipeline::testing
