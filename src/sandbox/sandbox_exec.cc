#include "sandbox/sandbox_exec.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "sandbox/landlock.h"

namespace pipeline {
namespace {

int Fail(const std::string& msg) {
  fprintf(stderr, "pipeline sandbox: %s\n", msg.c_str());
  return 127;
}

}  // namespace

int SandboxExecMain(const std::vector<std::string>& args) {
  LandlockRules rules;
  long long rlimit_as = 0;
  int wait_fd = -1;
  size_t i = 0;
  for (; i < args.size() && args[i] != "--"; ++i) {
    const std::string& a = args[i];
    bool has_value = i + 1 < args.size();
    if (a == "--no-fs") rules.restrict_fs = false;
    else if (a == "--restrict-connect") rules.connect_ports.emplace();
    else if (a == "--rw" && has_value) rules.writable.push_back(args[++i]);
    else if (a == "--create" && has_value) rules.create_only.push_back(args[++i]);
    else if (a == "--port" && has_value) {
      if (!rules.connect_ports) rules.connect_ports.emplace();
      rules.connect_ports->push_back(std::atoi(args[++i].c_str()));
    } else if (a == "--rlimit-as" && has_value) rlimit_as = std::atoll(args[++i].c_str());
    else if (a == "--wait-fd" && has_value) wait_fd = std::atoi(args[++i].c_str());
    else return Fail("unknown option " + a);
  }
  if (i + 1 >= args.size()) return Fail("no command after --");
  if (wait_fd >= 0) {
    // The monitor finishes the run's preparation (its copy of the branches,
    // its channel) while bubblewrap builds the sandbox, then sends one 'g'.
    // Anything else (it failed, or died): nothing of the agent runs.
    char go = 0;
    ssize_t n;
    do n = read(wait_fd, &go, 1);
    while (n < 0 && errno == EINTR);
    close(wait_fd);
    if (n != 1 || go != 'g') return Fail("the run's preparation did not finish");
  }
  if (rlimit_as > 0) {
    struct rlimit rl = {static_cast<rlim_t>(rlimit_as), static_cast<rlim_t>(rlimit_as)};
    if (setrlimit(RLIMIT_AS, &rl) != 0) return Fail(std::string("setrlimit: ") + strerror(errno));
  }
  if (rules.restrict_fs || rules.connect_ports) {
    if (Status s = ApplyLandlock(rules); !s.ok()) return Fail(s.message());
  }
  std::vector<char*> argv;
  for (size_t k = i + 1; k < args.size(); ++k) argv.push_back(const_cast<char*>(args[k].c_str()));
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  return Fail("cannot start " + args[i + 1] + ": " + strerror(errno));
}

}  // namespace pipeline
