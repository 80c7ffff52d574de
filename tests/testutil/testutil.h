// Shared test helpers: private temporary directories, git repositories, and
// running the built `pipeline` binary the way a user would.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "proc/process.h"

namespace pipeline::testing {

// A fresh directory under $TMPDIR, removed at the end of the test unless
// PIPELINE_KEEP_TEST_DIRS is set.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// Path of the built binary (bin/pipeline) and of the source tree.
std::string PipelineBin();
std::string SourceDir();

// Runs `pipeline args...` with cwd and extra environment; never through a shell.
CommandResult RunPipeline(const std::vector<std::string>& args, const std::string& cwd = "",
                          const std::map<std::string, std::string>& env = {}, int64_t timeout_ms = 60000);
// Runs any argv.
CommandResult RunArgv(const std::vector<std::string>& argv, const std::string& cwd = "",
                      const std::map<std::string, std::string>& env = {}, int64_t timeout_ms = 60000);

// git init -b main in dir, with a user identity and one initial commit.
void InitGitRepo(const std::string& dir);

void WriteTextFile(const std::string& path, const std::string& text);
std::string ReadTextFile(const std::string& path);

// Every process but this one whose command line holds marker.
std::vector<pid_t> ProcessesWith(const std::string& marker);

// Polls `pipeline agent status RUN --json` through `pipeline` (which runs the
// CLI with the caller's directory and environment) until the run is no
// longer running; its last answer, or a test failure after `seconds`.
nlohmann::json WaitForRunEnd(const std::string& run_id,
                             const std::function<CommandResult(const std::vector<std::string>&)>& pipeline,
                             int seconds = 60);

}  // namespace pipeline::testing
