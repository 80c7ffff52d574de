// One integration at a time per base branch: an exclusive flock(2) on
// .pipeline/integrate-<slug(base)>.lock, held for the whole run. The kernel
// drops it when the holder dies, even by kill -9, so a crash never leaves a
// stale lock behind.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "store/root.h"
#include "util/status.h"

namespace pipeline {

// The files the merge queue keeps under the root, per base branch. Bases whose
// slugs coincide ("a/b", "a-b") share them, which only serialises them more.
std::string IntegrateLockPath(const RootPaths& paths, const std::string& base);
std::string IntegrateJournalPath(const RootPaths& paths, const std::string& base);
// The reused detached worktree the check runs in ("_" cannot start a task
// id, so it never collides with a task's worktree).
std::string IntegrateScratchPath(const RootPaths& paths, const std::string& base);

class IntegrateLock {
 public:
  // Takes the lock, waiting up to wait_ms (0: not at all). nullopt when
  // another process still holds it; kIO when the file cannot be opened.
  static Result<std::optional<IntegrateLock>> Acquire(const std::string& path, int64_t wait_ms);

  IntegrateLock(IntegrateLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  IntegrateLock& operator=(IntegrateLock&& o) noexcept;
  IntegrateLock(const IntegrateLock&) = delete;
  ~IntegrateLock();

 private:
  explicit IntegrateLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace pipeline
