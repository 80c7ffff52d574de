// A run's memory limit (a cgroup holding the agent and everything it starts)
// and the free-memory reserve checked before a start.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "util/status.h"

namespace pipeline {

// MemAvailable in bytes from the text of /proc/meminfo; nullopt if absent.
std::optional<int64_t> ParseMemAvailable(const std::string& meminfo);
// kUnavailable ("N MiB free, M MiB kept free (sandbox.min_free_mb)")
// when starting a run now would eat into the reserve. For the scheduler:
// call before each start; reserve_bytes is sandbox.min_free_mb.
Status CheckFreeMemory(int64_t reserve_bytes);
Status CheckFreeMemory(int64_t reserve_bytes, const std::string& meminfo);

// Which cgroup hierarchy can hold a limit for our children: the unified one
// when this process's cgroup lets us create a child with the memory
// controller, else the v1 memory hierarchy, else none.
enum class MemoryControl { kNone, kCgroupV2, kCgroupV1 };
MemoryControl ProbeMemoryControl();
const char* MemoryControlName(MemoryControl m);

// One run's cgroup. The monitor moves itself in just long enough to start
// the sandbox (a child starts in its parent's cgroup, so nothing the agent
// forks is ever outside it), then moves back out.
class MemoryCgroup {
 public:
  static Result<MemoryCgroup> Create(const std::string& name, int64_t limit_bytes);
  MemoryCgroup() = default;
  Status EnterSelf();
  Status LeaveSelf();
  // The kernel killed a process of the cgroup for want of memory.
  bool LimitHit() const;
  // Kills whatever is left and removes the directory.
  void Remove();
  const std::string& dir() const { return dir_; }

 private:
  MemoryControl kind_ = MemoryControl::kNone;
  std::string dir_, parent_;
};

// A run's cgroup made and entered on a thread of its own. Moving a process
// into a cgroup waits for the kernel (an RCU grace period: 3-30 ms on a busy
// machine), so the monitor starts it as soon as it knows the run is confined
// and does its other work (the store, git HEAD) meanwhile.
class EarlyCgroup {
 public:
  EarlyCgroup() = default;
  EarlyCgroup(const EarlyCgroup&) = delete;
  EarlyCgroup& operator=(const EarlyCgroup&) = delete;
  // Leaves and removes a cgroup nobody took.
  ~EarlyCgroup();
  void Start(const std::string& name, int64_t limit_bytes);
  bool started() const { return thread_.joinable() || result_.has_value(); }
  // Waits for the thread; on success the calling process is inside the cgroup.
  Result<MemoryCgroup> Take();

 private:
  void Join();
  std::thread thread_;
  std::optional<Result<MemoryCgroup>> result_;
};

}  // namespace pipeline
