// Landlock through raw syscalls (linux/landlock.h): the write allow-list and
// the TCP connect port allow-list a confined agent runs under. Applied by the
// inner step inside the mount namespace, after which nothing can widen it:
// a Landlock domain is inherited by every descendant and only ever narrows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace pipeline {

// The kernel's Landlock ABI version; 0 when Landlock is absent or disabled.
int LandlockAbi();

struct LandlockRules {
  std::vector<std::string> writable;        // full write access beneath each
  std::vector<std::string> create_only;     // may create files and dirs, not delete or rename away (git objects)
  std::optional<std::vector<int>> connect_ports;  // nullopt: TCP not restricted
  bool restrict_fs = true;
};

// Restricts this process (and what it execs) for good. Writes anywhere but
// the listed trees are refused with EACCES; with connect_ports, a TCP connect
// to any other port (loopback included) is refused. On ABI >= 6 signals and
// abstract unix sockets are scoped to the sandbox too. A path that does not
// exist is skipped. Fails when the kernel cannot enforce what is asked.
Status ApplyLandlock(const LandlockRules& rules);

}  // namespace pipeline
