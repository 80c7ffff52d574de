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
// the sandbox (a child starts in the cgroup of the thread that forks it, so
// nothing the agent forks is ever outside it), then moves back out.
class MemoryCgroup {
 public:
  static Result<MemoryCgroup> Create(const std::string& name, int64_t limit_bytes);
  MemoryCgroup() = default;
  // The whole calling process. The kernel makes such a move wait for an RCU
  // grace period (3-30 ms on a busy machine): every fork on the machine
  // holds the lock it takes.
  Status EnterSelf();
  Status LeaveSelf();
  // Cgroup v1: the calling thread alone (`echo 0 > tasks`). The kernel moves
  // its own thread without that machine-wide lock: ~0.2 ms. On v2 a
  // process's threads share one cgroup, so only the process moves.
  bool ThreadMoves() const { return kind_ == MemoryControl::kCgroupV1; }
  Status EnterThread();
  Status LeaveThread();
  // The kernel killed a process of the cgroup for want of memory.
  bool LimitHit() const;
  // Kills whatever is left and removes the directory.
  void Remove();
  const std::string& dir() const { return dir_; }

 private:
  MemoryControl kind_ = MemoryControl::kNone;
  std::string dir_, parent_;
};

// A run's cgroup made on a thread of its own as soon as the monitor knows
// the run is confined, while it does its other work. On v2 the thread also
// moves the process in (the kernel's wait, see EnterSelf); on v1 the spawn
// moves only its own thread (EnterThread), which needs no head start.
class EarlyCgroup {
 public:
  EarlyCgroup() = default;
  EarlyCgroup(const EarlyCgroup&) = delete;
  EarlyCgroup& operator=(const EarlyCgroup&) = delete;
  // Leaves and removes a cgroup nobody took.
  ~EarlyCgroup();
  void Start(const std::string& name, int64_t limit_bytes);
  bool started() const { return thread_.joinable() || result_.has_value(); }
  // Waits for the thread; on success the calling process is inside the
  // cgroup unless the cgroup's ThreadMoves().
  Result<MemoryCgroup> Take();

 private:
  void Join();
  std::thread thread_;
  std::optional<Result<MemoryCgroup>> result_;
};

}  // namespace pipeline
