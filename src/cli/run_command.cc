#include "cli/commands.h"
#include "cli/cli_util.h"

namespace pipeline {

// Placeholder until this subsystem lands.
int RunCommand(const Args&) { return UsageError("this command is unavailable in this build"); }

}  // namespace pipeline
