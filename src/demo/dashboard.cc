#include "demo/dashboard.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "proc/process.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline::demo {

Result<DashboardChild> StartDashboard(const std::string& self, const RootPaths& paths) {
  const std::string port_file = paths.root + "/serve-port";
  (void)unlink(port_file.c_str());
  SpawnOptions o;
  o.argv = {self, "serve", "--root", paths.root, "--listen", "127.0.0.1:0", "--port-file", port_file,
            "--parent-pid", std::to_string(getpid())};
  o.stdout_mode = SpawnOptions::Out::kFile;
  o.stderr_mode = SpawnOptions::Out::kFile;
  o.stdout_path = o.stderr_path = paths.root + "/serve.log";
  PL_ASSIGN_OR_RETURN(SpawnedProcess p, Spawn(o));
  DashboardChild child{p.pid, ""};
  // Waiting for a child to bind: its port file appears, or it exits.
  for (int i = 0; i < 500; ++i) {
    auto text = ReadFile(port_file);
    if (text.ok() && !Trim(*text).empty()) {
      child.url = "http://127.0.0.1:" + Trim(*text) + "/";
      return child;
    }
    if (waitpid(p.pid, nullptr, WNOHANG) == p.pid)
      return Unavailable("pipeline serve exited; see " + paths.root + "/serve.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  StopDashboard(&child);
  return Unavailable("pipeline serve did not start within 10 s; see " + paths.root + "/serve.log");
}

void StopDashboard(DashboardChild* child) {
  if (child->pid <= 0) return;
  kill(child->pid, SIGTERM);
  waitpid(child->pid, nullptr, 0);
  child->pid = -1;
}

}  // namespace pipeline::demo
