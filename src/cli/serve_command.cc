// `pipeline serve`: runs pipeline-serve, the dashboard and JSON API, which is
// installed next to this binary (a program of its own so that `pipeline`
// does not link the HTTP library; see src/serve_main.cc).
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "util/files.h"

namespace pipeline {

int ServeCommand(const Args& args) {
  std::string self = SelfExePath();
  std::string path = self.substr(0, self.rfind('/') + 1) + "pipeline-serve";
  std::vector<char*> argv;
  argv.push_back(path.data());
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(path.c_str(), argv.data());
  return Fail(Unavailable("cannot run " + path + " (installed with pipeline): " + strerror(errno)));
}

}  // namespace pipeline
