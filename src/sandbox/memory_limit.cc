#include "sandbox/memory_limit.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <cstring>
#include <fstream>

#include "util/files.h"
#include "util/text.h"

namespace pipeline {
namespace {

// This process's cgroup path in hierarchy `controller` ("" for the unified one).
std::optional<std::string> OwnCgroup(const std::string& controller) {
  auto text = ReadFile("/proc/self/cgroup");
  if (!text.ok()) return std::nullopt;
  for (const auto& line : Split(*text, '\n')) {
    auto parts = Split(line, ':');
    if (parts.size() < 3) continue;
    std::string path = line.substr(parts[0].size() + parts[1].size() + 2);
    if (controller.empty() && parts[0] == "0" && parts[1].empty()) return path;
    if (!controller.empty())
      for (const auto& c : Split(parts[1], ','))
        if (c == controller) return path;
  }
  return std::nullopt;
}

std::string V2Mount() { return IsDirectory("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup"; }

Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  if (!f) return IOError("cannot open " + path + ": " + strerror(errno));
  f << text;
  f.flush();
  if (!f) return IOError("cannot write " + path + ": " + strerror(errno));
  return Status::Ok();
}

// The parent directory under which run cgroups are made, per hierarchy.
std::optional<std::string> Parent(MemoryControl kind) {
  if (kind == MemoryControl::kCgroupV2) {
    auto own = OwnCgroup("");
    if (!own) return std::nullopt;
    std::string dir = V2Mount() + (*own == "/" ? "" : *own);
    auto ctl = ReadFile(dir + "/cgroup.subtree_control");
    if (!ctl.ok() || ctl->find("memory") == std::string::npos) return std::nullopt;
    return dir;
  }
  auto own = OwnCgroup("memory");
  if (!own || !IsDirectory("/sys/fs/cgroup/memory")) return std::nullopt;
  return "/sys/fs/cgroup/memory" + (*own == "/" ? std::string() : *own);
}

int64_t CounterIn(const std::string& path, const std::string& key) {
  auto text = ReadFile(path);
  if (!text.ok()) return 0;
  for (const auto& line : Split(*text, '\n')) {
    auto w = SplitWhitespace(line);
    if (w.size() == 2 && w[0] == key) return std::atoll(w[1].c_str());
  }
  return 0;
}

}  // namespace

std::optional<int64_t> ParseMemAvailable(const std::string& meminfo) {
  for (const auto& line : Split(meminfo, '\n')) {
    auto w = SplitWhitespace(line);
    if (w.size() >= 2 && w[0] == "MemAvailable:") return std::atoll(w[1].c_str()) * 1024;
  }
  return std::nullopt;
}

Status CheckFreeMemory(int64_t reserve_bytes, const std::string& meminfo) {
  if (reserve_bytes <= 0) return Status::Ok();
  auto avail = ParseMemAvailable(meminfo);
  if (!avail) return Status::Ok();  // a kernel that does not say: do not block on it
  if (*avail >= reserve_bytes) return Status::Ok();
  return Unavailable(std::to_string(*avail >> 20) + " MiB free, " +
                     std::to_string(reserve_bytes >> 20) + " MiB kept free (sandbox.min_free_mb)");
}

Status CheckFreeMemory(int64_t reserve_bytes) {
  auto text = ReadFile("/proc/meminfo");
  return CheckFreeMemory(reserve_bytes, text.ok() ? *text : std::string());
}

MemoryControl ProbeMemoryControl() {
  for (MemoryControl kind : {MemoryControl::kCgroupV2, MemoryControl::kCgroupV1}) {
    auto parent = Parent(kind);
    if (parent && access(parent->c_str(), W_OK) == 0) return kind;
  }
  return MemoryControl::kNone;
}

const char* MemoryControlName(MemoryControl m) {
  switch (m) {
    case MemoryControl::kCgroupV2: return "cgroup v2";
    case MemoryControl::kCgroupV1: return "cgroup v1";
    case MemoryControl::kNone: break;
  }
  return "none";
}

Result<MemoryCgroup> MemoryCgroup::Create(const std::string& name, int64_t limit_bytes) {
  MemoryCgroup cg;
  cg.kind_ = ProbeMemoryControl();
  if (cg.kind_ == MemoryControl::kNone) return Unavailable("no writable memory cgroup");
  cg.parent_ = *Parent(cg.kind_);
  cg.dir_ = cg.parent_ + "/" + name;
  // Cgroups of runs whose monitor was killed stay behind, empty: remove them
  // now (rmdir refuses one that still holds a process; one made in the last
  // minute may belong to a monitor about to step in).
  if (DIR* d = opendir(cg.parent_.c_str())) {
    while (struct dirent* e = readdir(d)) {
      std::string path = cg.parent_ + "/" + e->d_name;
      struct stat st;
      if (std::string(e->d_name).rfind("pipeline-run-", 0) == 0 && stat(path.c_str(), &st) == 0 &&
          st.st_mtime < time(nullptr) - 60)
        rmdir(path.c_str());
    }
    closedir(d);
  }
  if (mkdir(cg.dir_.c_str(), 0755) != 0 && errno != EEXIST)
    return IOError("cannot create cgroup " + cg.dir_ + ": " + strerror(errno));
  std::string limit = std::to_string(limit_bytes);
  if (cg.kind_ == MemoryControl::kCgroupV2) {
    PL_RETURN_IF_ERROR(WriteText(cg.dir_ + "/memory.max", limit));
    (void)WriteText(cg.dir_ + "/memory.swap.max", "0");
    (void)WriteText(cg.dir_ + "/memory.oom.group", "1");
  } else {
    PL_RETURN_IF_ERROR(WriteText(cg.dir_ + "/memory.limit_in_bytes", limit));
    (void)WriteText(cg.dir_ + "/memory.memsw.limit_in_bytes", limit);
  }
  return cg;
}

Status MemoryCgroup::EnterSelf() { return WriteText(dir_ + "/cgroup.procs", std::to_string(getpid())); }
Status MemoryCgroup::LeaveSelf() { return WriteText(parent_ + "/cgroup.procs", std::to_string(getpid())); }

// "0" is the writing thread; a pid would take the machine-wide lock again.
Status MemoryCgroup::EnterThread() {
  if (!ThreadMoves()) return Unavailable("a single thread cannot change cgroup v2 cgroups");
  return WriteText(dir_ + "/tasks", "0");
}
Status MemoryCgroup::LeaveThread() {
  if (!ThreadMoves()) return Unavailable("a single thread cannot change cgroup v2 cgroups");
  return WriteText(parent_ + "/tasks", "0");
}

bool MemoryCgroup::LimitHit() const {
  if (dir_.empty()) return false;
  if (kind_ == MemoryControl::kCgroupV2) return CounterIn(dir_ + "/memory.events", "oom_kill") > 0;
  return CounterIn(dir_ + "/memory.oom_control", "oom_kill") > 0;
}

void MemoryCgroup::Remove() {
  if (dir_.empty()) return;
  // Whatever escaped the PID namespace's end (nothing should) goes now.
  for (int round = 0; round < 50 && rmdir(dir_.c_str()) != 0 && errno == EBUSY; ++round) {
    auto procs = ReadFile(dir_ + "/cgroup.procs");
    if (procs.ok())
      for (const auto& p : SplitWhitespace(*procs)) kill(std::atoi(p.c_str()), SIGKILL);
    usleep(10000);
  }
  dir_.clear();
}

EarlyCgroup::~EarlyCgroup() {
  Join();
  if (result_ && result_->ok()) {
    if (!(*result_)->ThreadMoves()) (void)(*result_)->LeaveSelf();
    (*result_)->Remove();
  }
}

void EarlyCgroup::Start(const std::string& name, int64_t limit_bytes) {
  if (started()) return;
  thread_ = std::thread([this, name, limit_bytes]() {
    auto cg = MemoryCgroup::Create(name, limit_bytes);
    if (cg.ok() && !cg->ThreadMoves()) {
      if (Status in = cg->EnterSelf(); !in.ok()) {
        cg->Remove();
        result_ = Result<MemoryCgroup>(in.error());
        return;
      }
    }
    result_ = std::move(cg);
  });
}

void EarlyCgroup::Join() {
  if (thread_.joinable()) thread_.join();
}

Result<MemoryCgroup> EarlyCgroup::Take() {
  Join();
  if (!result_) return Unavailable("the run's cgroup was not started");
  Result<MemoryCgroup> r = std::move(*result_);
  result_.reset();
  return r;
}

}  // namespace pipeline
