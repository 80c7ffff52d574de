#include "testutil/testutil.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "util/files.h"

namespace pipeline::testing {

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/pipeline-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back(0);
  if (!mkdtemp(buf.data())) abort();
  path_ = buf.data();
}

TempDir::~TempDir() {
  if (!getenv("PIPELINE_KEEP_TEST_DIRS")) (void)RemoveAll(path_);
}

std::string PipelineBin() { return PIPELINE_BIN; }
std::string SourceDir() { return PIPELINE_SOURCE_DIR; }

CommandResult RunArgv(const std::vector<std::string>& argv, const std::string& cwd,
                      const std::map<std::string, std::string>& env, int64_t timeout_ms) {
  Command c;
  c.argv = argv;
  c.cwd = cwd;
  c.env_set = env;
  c.timeout_ms = timeout_ms;
  auto r = RealProcessRunner().Run(c);
  if (!r.ok()) {
    ADD_FAILURE() << "cannot run " << argv[0] << ": " << r.message();
    return CommandResult{};
  }
  return *r;
}

CommandResult RunPipeline(const std::vector<std::string>& args, const std::string& cwd,
                          const std::map<std::string, std::string>& env, int64_t timeout_ms) {
  std::vector<std::string> argv = {PipelineBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunArgv(argv, cwd, env, timeout_ms);
}

void InitGitRepo(const std::string& dir) {
  auto git = [&](std::vector<std::string> a) {
    a.insert(a.begin(), {"git", "-C", dir});
    auto r = RunArgv(a);
    ASSERT_TRUE(r.ok()) << "git failed: " << r.err;
  };
  git({"init", "-q", "-b", "main"});
  git({"config", "user.email", "test@example.com"});
  git({"config", "user.name", "Test"});
  git({"config", "commit.gpgsign", "false"});
  WriteTextFile(dir + "/README.md", "test repo\n");
  git({"add", "README.md"});
  git({"commit", "-q", "-m", "initial"});
}

void WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

std::string ReadTextFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace pipeline::testing
