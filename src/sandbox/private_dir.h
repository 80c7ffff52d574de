// A run's private directory (<store>/sandbox/<run_id>: home/, tmp/,
// git-heads/, run.sock). Every file or directory made costs the filesystem
// an inode; on a full ext4 that is ~0.6 ms of kernel time apiece, several
// per start. So a run that ends leaves an empty directory ready ("-spare-*",
// a name no run id can have: ids never start with '-'), and the next run's
// start takes it with one rename. A spare is made by a monitor, empty, and
// never seen by any run before it is taken; taking is atomic (rename), so
// two starts never share one.
#pragma once

#include <string>

#include "util/status.h"

namespace pipeline {

// The subdirectories every private directory has.
inline constexpr const char* kPrivateSubdirs[] = {"home", "tmp", "git-heads"};

// Makes `private_dir` (in `sandbox_dir`) fresh and empty but for the
// subdirectories above: a spare taken by rename, else made.
Status MakeRunPrivateDir(const std::string& sandbox_dir, const std::string& private_dir);

// After a run: leaves a spare for the next start unless `max_spares` are
// there already; with `git_common_dir`, its git-heads holds a copy of that
// repository's branch refs, which the next start only brings up to date
// (git_confine.h: CopyBranchRefs). Also removes half-made spares of monitors
// killed while making one. Best effort: a start without a spare makes its own.
void LeaveSparePrivateDir(const std::string& sandbox_dir, const std::string& git_common_dir = "",
                          int max_spares = 4);

}  // namespace pipeline
