// `pipeline demo --serve`: the dashboard (`pipeline serve`, a child process)
// on the demo's store while the demo runs. The child stops with the demo.
#pragma once

#include <sys/types.h>

#include <string>

#include "store/root.h"
#include "util/status.h"

namespace pipeline::demo {

struct DashboardChild {
  pid_t pid = -1;
  std::string url;
};

// Starts `<self> serve --root ROOT --listen 127.0.0.1:0` and waits (up to
// 10 s) until it listens.
Result<DashboardChild> StartDashboard(const std::string& self, const RootPaths& paths);
// SIGTERM and wait; idempotent.
void StopDashboard(DashboardChild* child);

}  // namespace pipeline::demo
