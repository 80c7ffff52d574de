#include "sandbox/policy.h"

#include <algorithm>

#include "util/files.h"

namespace pipeline {
namespace {

// a == b or a inside b.
bool Within(const std::string& a, const std::string& b) {
  if (b == "/") return true;
  return a == b || (a.size() > b.size() && a.compare(0, b.size(), b) == 0 && a[b.size()] == '/');
}

void Add(std::vector<std::string>* v, std::initializer_list<std::string> items) {
  v->insert(v->end(), items.begin(), items.end());
}

}  // namespace

std::vector<std::string> SandboxPolicy::Wrap(const std::vector<std::string>& agent_argv, const std::string& self_exe,
                                             const std::string& bwrap) const {
  std::vector<std::string> argv = {bwrap};
  argv.insert(argv.end(), bwrap_args.begin(), bwrap_args.end());
  argv.push_back("--");
  if (!inner_exe.empty()) argv.push_back(inner_exe);
  else Add(&argv, {self_exe, "agent", "__sandbox-exec"});
  if (!landlock_fs) argv.push_back("--no-fs");
  for (const auto& p : writable) Add(&argv, {"--rw", p});
  for (const auto& p : create_only) Add(&argv, {"--create", p});
  if (connect_ports) {
    argv.push_back("--restrict-connect");
    for (int port : *connect_ports) Add(&argv, {"--port", std::to_string(port)});
  }
  if (rlimit_as) Add(&argv, {"--rlimit-as", std::to_string(*rlimit_as)});
  if (start_gate_fd >= 0) Add(&argv, {"--wait-fd", std::to_string(start_gate_fd)});
  argv.push_back("--");
  argv.insert(argv.end(), agent_argv.begin(), agent_argv.end());
  return argv;
}

SandboxPolicy BuildPolicy(const PolicyInputs& in) {
  auto exists = in.exists ? in.exists : +[](const std::string& p) { return PathExists(p); };
  auto is_dir = in.is_dir ? in.is_dir : +[](const std::string& p) { return IsDirectory(p); };
  const SandboxSettings& s = in.settings;
  bool fs = s.On(kProtectionFilesystem);
  SandboxPolicy p;
  p.landlock_fs = fs;
  p.home = in.profile_home.value_or(JoinPath(in.private_dir, "home"));
  p.tmp = JoinPath(in.private_dir, "tmp");
  p.socket_path = JoinPath(in.private_dir, "run.sock");
  if (s.On(kProtectionNetwork)) p.connect_ports = in.connect_ports;
  auto& a = p.bwrap_args;
  Add(&a, {"--die-with-parent", "--unshare-ipc", "--unshare-uts"});
  if (s.On(kProtectionProcesses)) Add(&a, {"--unshare-pid"});
  if (!fs) {
    Add(&a, {"--bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--chdir", in.workspace});
    return p;
  }
  Add(&a, {"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"});

  // What no run may read: credentials and other agents' homes (minus this
  // profile's own), then the whole store with the other runs' logs and
  // workspaces. A tmpfs hides a directory, /dev/null a file.
  // The profile's own credentials: those in the person's home appear at the
  // same place in the run's home (read-only), the others where they are.
  std::vector<std::pair<std::string, std::string>> creds;  // {source, target}
  // A profile whose env names its own HOME chose its own credentials there:
  // nothing of the person's is laid over it.
  for (const auto& c : in.profile_home ? std::vector<std::string>() : in.credentials) {
    std::string src = ExpandHome(c, in.person_home);
    std::string dst = Within(src, in.person_home) && src != in.person_home
                          ? p.home + src.substr(in.person_home.size())
                          : src;
    creds.emplace_back(src, dst);
  }
  auto named_where_it_is = [&](const std::string& d) {
    for (const auto& [src, dst] : creds)
      if (src == d && dst == src) return true;
    return false;
  };
  for (const auto& raw : s.read_deny) {
    std::string d = ExpandHome(raw, in.person_home);
    if (named_where_it_is(d) || !exists(d) || Within(d, in.store_root)) continue;
    if (is_dir(d)) Add(&a, {"--tmpfs", d, "--remount-ro", d});
    else Add(&a, {"--ro-bind", "/dev/null", d});
  }
  for (const auto& [src, dst] : creds)
    if (dst == src && exists(src)) Add(&a, {"--ro-bind", src, dst});

  bool ws_in_store = Within(in.workspace, in.store_root);
  if (!ws_in_store) Add(&a, {"--bind", in.workspace, in.workspace});
  Add(&a, {"--tmpfs", in.store_root});
  if (ws_in_store) Add(&a, {"--bind", in.workspace, in.workspace});
  Add(&a, {"--bind", in.private_dir, in.private_dir});
  if (!in.prompt_file.empty() && exists(in.prompt_file)) Add(&a, {"--ro-bind", in.prompt_file, in.prompt_file});
  p.writable = {in.workspace, in.private_dir, "/dev"};

  if (in.git) {
    const GitConfinement& g = *in.git;
    std::string heads = g.common_dir + "/refs/heads", logs = g.common_dir + "/logs";
    std::string objects = g.common_dir + "/objects";
    if (Within(g.common_dir, in.workspace)) {
      // The workspace is the main checkout: keep at least hooks and config out of reach.
      for (const char* sub : {"/hooks", "/config", "/info"})
        if (exists(g.common_dir + sub)) Add(&a, {"--ro-bind", g.common_dir + sub, g.common_dir + sub});
    } else {
      Add(&a, {"--bind", objects, objects});
      if (!g.worktree_gitdir.empty()) Add(&a, {"--bind", g.worktree_gitdir, g.worktree_gitdir});
      Add(&a, {"--bind", g.private_heads, heads, "--tmpfs", logs});
      p.create_only.push_back(objects);
      if (!g.worktree_gitdir.empty()) p.writable.push_back(g.worktree_gitdir);
      p.writable.push_back(heads);
      p.writable.push_back(logs);
    }
  }
  if (in.profile_home && !Within(*in.profile_home, in.private_dir) && exists(*in.profile_home)) {
    Add(&a, {"--bind", *in.profile_home, *in.profile_home});
    p.writable.push_back(*in.profile_home);
  }
  for (const auto& w : in.extra_writable)
    if (exists(w)) {
      Add(&a, {"--bind", w, w});
      p.writable.push_back(w);
    }
  for (const auto& [src, dst] : creds)
    if (dst != src && exists(src)) Add(&a, {"--ro-bind", src, dst});
  // Last: mount points for the binds above may have been made in the tmpfs.
  Add(&a, {"--remount-ro", in.store_root, "--chdir", in.workspace});
  return p;
}

std::map<std::string, std::string> AllowedEnvironment(const std::map<std::string, std::string>& inherited,
                                                      const std::vector<std::string>& pass_names,
                                                      const std::map<std::string, std::string>& set,
                                                      const SandboxPolicy& policy) {
  std::map<std::string, std::string> env;
  for (const auto& [k, v] : inherited) {
    bool allowed = k == "PATH" || k == "TERM" || k == "LANG" || k == "LANGUAGE" || k == "TZ" || k == "USER" ||
                   k == "LOGNAME" || k == "COLORTERM" || k == "NO_COLOR" || k.rfind("LC_", 0) == 0 ||
                   std::find(pass_names.begin(), pass_names.end(), k) != pass_names.end();
    if (allowed) env[k] = v;
  }
  env["HOME"] = policy.home;
  env["TMPDIR"] = policy.tmp;
  // Inside the run most of .git is read-only: git's automatic gc and
  // maintenance would only fail, and leave a lock file in the object store.
  env["GIT_CONFIG_COUNT"] = "2";
  env["GIT_CONFIG_KEY_0"] = "gc.auto";
  env["GIT_CONFIG_VALUE_0"] = "0";
  env["GIT_CONFIG_KEY_1"] = "maintenance.auto";
  env["GIT_CONFIG_VALUE_1"] = "false";
  for (const auto& [k, v] : set) env[k] = v;
  env["PIPELINE_RUN_SOCKET"] = policy.socket_path;
  return env;
}

std::vector<int> PortsOfBaseUrls(const std::map<std::string, std::string>& env) {
  std::vector<int> ports;
  for (const auto& [k, v] : env) {
    if (k.size() < 9 || k.compare(k.size() - 9, 9, "_BASE_URL") != 0) continue;
    size_t scheme = v.find("://");
    if (scheme == std::string::npos) continue;
    std::string rest = v.substr(scheme + 3);
    std::string hostport = rest.substr(0, rest.find('/'));
    size_t colon = hostport.rfind(':');
    size_t bracket = hostport.rfind(']');
    int port = v.compare(0, scheme, "https") == 0 ? 443 : 80;
    if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
      try {
        port = std::stoi(hostport.substr(colon + 1));
      } catch (...) {
        continue;
      }
    }
    if (port > 0 && port < 65536 && std::find(ports.begin(), ports.end(), port) == ports.end()) ports.push_back(port);
  }
  return ports;
}

}  // namespace pipeline
