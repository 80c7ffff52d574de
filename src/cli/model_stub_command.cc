// `pipeline model-stub`: runs pipeline-model-stub, the scripted model server,
// which is installed next to this binary (it is a program of its own so that
// `pipeline` does not link the HTTP library; see src/stub_main.cc).
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "util/files.h"

namespace pipeline {

static std::string ModelStubPath() {
  std::string self = SelfExePath();
  return self.substr(0, self.rfind('/') + 1) + "pipeline-model-stub";
}

int ModelStubCommand(const Args& args) {
  std::string path = ModelStubPath();
  std::vector<char*> argv;
  argv.push_back(path.data());
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(path.c_str(), argv.data());
  return Fail(Unavailable("cannot run " + path + " (installed with pipeline): " + strerror(errno)));
}

}  // namespace pipeline
