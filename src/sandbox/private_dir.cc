#include "sandbox/private_dir.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <vector>

#include "sandbox/git_confine.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline {
namespace {

constexpr const char* kSparePrefix = "-spare-";
constexpr const char* kMakingPrefix = "-making-";

std::vector<std::string> Entries(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (struct dirent* e = readdir(d))
      if (StartsWith(e->d_name, prefix)) names.push_back(e->d_name);
    closedir(d);
  }
  return names;
}

Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return Status::Ok();
  return IOError("cannot create directory " + path + ": " + strerror(errno));
}

Status MakeSubdirs(const std::string& dir) {
  for (const char* sub : kPrivateSubdirs) PL_RETURN_IF_ERROR(MakeDir(JoinPath(dir, sub)));
  return Status::Ok();
}

}  // namespace

Status MakeRunPrivateDir(const std::string& sandbox_dir, const std::string& private_dir) {
  (void)RemoveAll(private_dir);
  bool taken = false;
  for (const auto& name : Entries(sandbox_dir, kSparePrefix)) {
    // Another start may take the same one first: then the next, else make one.
    if (rename(JoinPath(sandbox_dir, name).c_str(), private_dir.c_str()) == 0) {
      taken = true;
      break;
    }
  }
  if (!taken) {
    PL_RETURN_IF_ERROR(MakeDirs(sandbox_dir));
    PL_RETURN_IF_ERROR(MakeDir(private_dir));
  }
  // A spare has them all already (these are then a stat each).
  return MakeSubdirs(private_dir);
}

void LeaveSparePrivateDir(const std::string& sandbox_dir, const std::string& git_common_dir, int max_spares) {
  time_t stale = time(nullptr) - 60;
  for (const auto& name : Entries(sandbox_dir, kMakingPrefix)) {
    struct stat st;
    std::string path = JoinPath(sandbox_dir, name);
    if (stat(path.c_str(), &st) == 0 && st.st_mtime < stale) (void)RemoveAll(path);
  }
  if (static_cast<int>(Entries(sandbox_dir, kSparePrefix).size()) >= max_spares) return;
  static std::atomic<int> counter{0};
  std::string unique = std::to_string(getpid()) + "-" +
                       std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "-" +
                       std::to_string(counter++);
  // Made under another name and renamed when complete: a start never takes a half-made one.
  std::string making = JoinPath(sandbox_dir, kMakingPrefix + unique);
  if (!MakeDir(making).ok() || !MakeSubdirs(making).ok() ||
      (!git_common_dir.empty() && !CopyBranchRefs(git_common_dir, JoinPath(making, "git-heads")).ok()) ||
      rename(making.c_str(), JoinPath(sandbox_dir, kSparePrefix + unique).c_str()) != 0)
    (void)RemoveAll(making);
}

}  // namespace pipeline
