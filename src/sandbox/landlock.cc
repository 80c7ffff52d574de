#include "sandbox/landlock.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace pipeline {
namespace {

// The kernel's Landlock ABI (include/uapi/linux/landlock.h, up to ABI 7),
// spelled out here: the distribution's headers may predate the network and
// scope rules the running kernel has.
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;  // ABI 4
  uint64_t scoped;              // ABI 6
};
struct __attribute__((packed)) PathBeneathAttr {
  uint64_t allowed_access;
  int32_t parent_fd;
};
struct NetPortAttr {
  uint64_t allowed_access;
  uint64_t port;
};
constexpr uint32_t kCreateRulesetVersion = 1u << 0;
constexpr int kRulePathBeneath = 1, kRuleNetPort = 2;

constexpr uint64_t kFsExecute = 1ull << 0, kFsWriteFile = 1ull << 1, kFsReadFile = 1ull << 2,
                   kFsRemoveDir = 1ull << 4, kFsRemoveFile = 1ull << 5, kFsMakeChar = 1ull << 6,
                   kFsMakeDir = 1ull << 7, kFsMakeReg = 1ull << 8, kFsMakeSock = 1ull << 9, kFsMakeFifo = 1ull << 10,
                   kFsMakeBlock = 1ull << 11, kFsMakeSym = 1ull << 12, kFsRefer = 1ull << 13,
                   kFsTruncate = 1ull << 14;
constexpr uint64_t kNetConnectTcp = 1ull << 1;
constexpr uint64_t kScopeAbstractUnixSocket = 1ull << 0, kScopeSignal = 1ull << 1;

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

// Rights that change the filesystem, by the ABI that introduced them.
uint64_t WriteRights(int abi) {
  uint64_t r = kFsWriteFile | kFsRemoveDir | kFsRemoveFile | kFsMakeChar | kFsMakeDir | kFsMakeReg | kFsMakeSock |
               kFsMakeFifo | kFsMakeBlock | kFsMakeSym;
  if (abi >= 2) r |= kFsRefer;
  if (abi >= 3) r |= kFsTruncate;
  return r;
}

// Rights on a directory files may only be added to (git's object store:
// loose objects are created, then linked to their final name).
uint64_t CreateRights(int abi) {
  uint64_t r = kFsWriteFile | kFsMakeDir | kFsMakeReg;
  if (abi >= 2) r |= kFsRefer;
  return r;
}

Error Errno(const std::string& what) { return IOError("landlock: " + what + ": " + strerror(errno)); }

}  // namespace

int LandlockAbi() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
  return abi < 0 ? 0 : static_cast<int>(abi);
}

Status ApplyLandlock(const LandlockRules& rules) {
  int abi = LandlockAbi();
  if (abi < 1) return Unavailable("landlock: not supported by this kernel");
  if (rules.connect_ports && abi < 4)
    return Unavailable("landlock: TCP port rules need ABI 4, the kernel has " + std::to_string(abi));

  RulesetAttr attr = {};
  if (rules.restrict_fs) attr.handled_access_fs = WriteRights(abi);
  if (rules.connect_ports) attr.handled_access_net = kNetConnectTcp;
  if (abi >= 6) attr.scoped = kScopeAbstractUnixSocket | kScopeSignal;
  size_t attr_size = abi >= 6 ? sizeof attr : abi >= 4 ? offsetof(RulesetAttr, scoped) : offsetof(RulesetAttr, handled_access_net);
  int ruleset = static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0));
  if (ruleset < 0) return Errno("create ruleset");

  auto add_path = [&](const std::string& path, uint64_t rights) -> Status {
    int fd = open(path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? Status::Ok() : Status(Errno("open " + path));
    struct stat st;
    uint64_t allowed = rights & attr.handled_access_fs;
    // Directory-only rights on a file are refused by the kernel.
    if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) allowed &= kFsWriteFile | kFsReadFile | kFsExecute | kFsTruncate;
    PathBeneathAttr pb = {};
    pb.allowed_access = allowed;
    pb.parent_fd = fd;
    long rc = syscall(SYS_landlock_add_rule, ruleset, kRulePathBeneath, &pb, 0);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc < 0 ? Status(Errno("rule for " + path)) : Status::Ok();
  };
  Status st = Status::Ok();
  if (rules.restrict_fs) {
    for (const auto& p : rules.writable)
      if (st.ok()) st = add_path(p, WriteRights(abi));
    for (const auto& p : rules.create_only)
      if (st.ok()) st = add_path(p, CreateRights(abi));
  }
  if (st.ok() && rules.connect_ports) {
    for (int port : *rules.connect_ports) {
      NetPortAttr np = {kNetConnectTcp, static_cast<uint64_t>(port)};
      if (syscall(SYS_landlock_add_rule, ruleset, kRuleNetPort, &np, 0) < 0) {
        st = Errno("rule for port " + std::to_string(port));
        break;
      }
    }
  }
  if (st.ok() && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) st = Errno("no_new_privs");
  if (st.ok() && syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) st = Errno("restrict self");
  close(ruleset);
  return st;
}

}  // namespace pipeline
