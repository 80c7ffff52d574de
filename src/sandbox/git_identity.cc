#include "sandbox/git_identity.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "proc/process.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline {
namespace {

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

// The config files git reads for a repository whose .git is common_dir
// (system, global, XDG, the repository's own), as the environment chooses them.
std::vector<std::string> ConfigFiles(const std::string& common_dir) {
  std::vector<std::string> files;
  std::string system = Env("GIT_CONFIG_SYSTEM");
  files.push_back(system.empty() ? "/etc/gitconfig" : system);
  std::string global = Env("GIT_CONFIG_GLOBAL");
  if (!global.empty()) {
    files.push_back(global);
  } else {
    std::string home = Env("HOME"), xdg = Env("XDG_CONFIG_HOME");
    files.push_back(home + "/.gitconfig");
    files.push_back((xdg.empty() ? home + "/.config" : xdg) + "/git/config");
  }
  if (!common_dir.empty()) files.push_back(common_dir + "/config");
  return files;
}

// What says whether the answer can still be trusted: the variables that
// choose the files, and each file's size, mtime and inode (or its absence).
std::string Signature(const std::vector<std::string>& files) {
  std::string sig;
  for (const char* v : {"HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM",
                        "GIT_CONFIG_COUNT", "GIT_DIR", "GIT_CONFIG_PARAMETERS"})
    sig += std::string(v) + "=" + Env(v) + "\n";
  for (const auto& f : files) {
    struct stat st;
    if (stat(f.c_str(), &st) != 0) {
      sig += f + " -\n";
      continue;
    }
    sig += f + " " + std::to_string(st.st_size) + " " + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec) + " " + std::to_string(st.st_ino) + "\n";
  }
  return sig;
}

}  // namespace

Result<std::string> AskGitConfig(const std::string& workspace) {
  Command c;
  c.argv = {"git", "-C", workspace, "config", "--show-origin", "--get-regexp", "^user\\.(name|email)$"};
  c.timeout_ms = 5000;
  auto r = RealProcessRunner().Run(c);
  if (!r.ok()) return r.error();
  if (!r->ok()) return std::string();  // exit 1: neither is set
  return r->out;
}

std::map<std::string, std::string> GitIdentityEnv(const std::string& workspace, const std::string& common_dir,
                                                  const std::string& cache_file, const GitConfigAsker& ask) {
  std::vector<std::string> files = ConfigFiles(common_dir);
  if (!cache_file.empty()) {
    auto text = ReadFile(cache_file);
    nlohmann::json cached = text.ok() ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
    if (cached.is_object() && cached["origins"].is_array() && cached["env"].is_object()) {
      std::vector<std::string> all = files;
      for (const auto& o : cached["origins"])
        if (o.is_string()) all.push_back(o.get<std::string>());
      if (cached.value("signature", "") == Signature(all)) {
        std::map<std::string, std::string> env;
        for (const auto& [k, v] : cached["env"].items())
          if (v.is_string()) env[k] = v.get<std::string>();
        return env;
      }
    }
  }
  auto out = ask(workspace);
  if (!out.ok()) return {};
  std::map<std::string, std::string> env;  // the last value wins, as in git (local after global)
  std::vector<std::string> origins;
  bool cacheable = true;
  for (const auto& line : Split(*out, '\n')) {
    size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    std::string origin = line.substr(0, tab), rest = line.substr(tab + 1);
    // A plain file path; anything else (command line, a blob, a quoted path) is not kept.
    if (StartsWith(origin, "file:") && origin.size() > 5 && origin[5] != '"') {
      // The repository's own config is named relative to the workspace; it is in files already.
      std::string path = origin.substr(5);
      if (path[0] != '/') path = JoinPath(workspace, path);
      std::error_code ec;
      std::string canonical = std::filesystem::weakly_canonical(path, ec).string();
      bool known = false;
      for (const auto& f : files) known = known || f == path || (!ec && f == canonical);
      if (!known) origins.push_back(ec ? path : canonical);
    } else {
      cacheable = false;
    }
    size_t sp = rest.find(' ');
    if (sp == std::string::npos) continue;
    std::string key = rest.substr(0, sp), value = rest.substr(sp + 1);
    bool name = key == "user.name";
    env[name ? "GIT_AUTHOR_NAME" : "GIT_AUTHOR_EMAIL"] = value;
    env[name ? "GIT_COMMITTER_NAME" : "GIT_COMMITTER_EMAIL"] = value;
  }
  if (!cache_file.empty() && cacheable) {
    std::vector<std::string> all = files;
    all.insert(all.end(), origins.begin(), origins.end());
    nlohmann::json j = {{"signature", Signature(all)}, {"origins", origins}, {"env", env}};
    (void)WriteFileAtomic(cache_file, j.dump(), FileSync::kNoFsync);  // a lost cache only costs a git process
  }
  return env;
}

}  // namespace pipeline
