#include "testutil/testutil.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

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

std::vector<pid_t> ProcessesWith(const std::string& marker) {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (struct dirent* e = readdir(d)) {
    pid_t pid = std::atoi(e->d_name);
    if (pid <= 0 || pid == getpid()) continue;
    std::string cmd = ReadTextFile("/proc/" + std::string(e->d_name) + "/cmdline");
    for (char& c : cmd)
      if (c == '\0') c = ' ';
    if (cmd.find(marker) != std::string::npos) out.push_back(pid);
  }
  closedir(d);
  return out;
}

nlohmann::json WaitForRunEnd(const std::string& run_id,
                             const std::function<CommandResult(const std::vector<std::string>&)>& pipeline,
                             int seconds) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  nlohmann::json j;
  std::string last;
  while (std::chrono::steady_clock::now() < until) {
    auto r = pipeline({"agent", "status", run_id, "--json"});
    j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_object() && j.value("status", "") != "running") return j;
    last = r.out + r.err;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "run " << run_id << " did not end: " << last;
  return j.is_object() ? j : nlohmann::json::object();
}

}  // namespace pipeline::testing
