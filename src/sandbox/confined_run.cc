#include "sandbox/confined_run.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdlib>

#include "sandbox/git_identity.h"
#include "sandbox/private_dir.h"
#include "util/files.h"
#include "util/text.h"

extern char** environ;

namespace pipeline {
namespace {

std::string PersonHome() {
  if (const char* h = getenv("HOME"); h && *h) return h;
  if (struct passwd* pw = getpwuid(getuid())) return pw->pw_dir;
  return "/";
}

std::map<std::string, std::string> Environ() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

// The agent's program as posix_spawnp would find it. Checked before the
// sandbox starts, so a missing program fails the start (and `agent run`)
// the same way confined or not, instead of failing later inside.
Status CheckProgram(const std::string& program, const std::string& path_env, const std::string& cwd) {
  std::string why = "cannot start " + program + ": ";
  if (program.find('/') != std::string::npos) {
    std::string at = program[0] == '/' ? program : JoinPath(cwd, program);
    if (access(at.c_str(), X_OK) == 0) return Status::Ok();
    return errno == ENOENT ? Status(NotFound(why + strerror(errno))) : Status(IOError(why + strerror(errno)));
  }
  for (const auto& dir : Split(path_env, ':'))
    if (!dir.empty() && access((dir + "/" + program).c_str(), X_OK) == 0) return Status::Ok();
  return NotFound(why + strerror(ENOENT));
}

}  // namespace

std::string RunPrivateDir(const std::string& store_root, const std::string& run_id) {
  return store_root + "/sandbox/" + run_id;
}

Result<std::unique_ptr<ConfinedRun>> ConfinedRun::Prepare(const ConfinedRunInputs& in,
                                                         const KernelProtections& kernel) {
  SandboxSettings settings = in.settings;
  // Port rules are needed only by a profile that names ports.
  if (!in.connect_ports) settings.off.insert(kProtectionNetwork);
  PL_RETURN_IF_ERROR(RequireProtections(settings, kernel));
  std::unique_ptr<ConfinedRun> r(new ConfinedRun());
  r->in_ = in;
  r->bwrap_ = kernel.bwrap;
  r->private_dir_ = RunPrivateDir(in.store_root, in.run_id);
  PL_RETURN_IF_ERROR(MakeRunPrivateDir(JoinPath(in.store_root, "sandbox"), r->private_dir_));

  PolicyInputs p;
  p.workspace = in.workspace;
  p.store_root = in.store_root;
  p.private_dir = r->private_dir_;
  p.prompt_file = in.prompt_file;
  p.person_home = PersonHome();
  if (auto h = in.env.find("HOME"); h != in.env.end() && !h->second.empty() && h->second[0] == '/')
    p.profile_home = h->second;
  for (const char* k : {"CODEX_HOME", "CLAUDE_CONFIG_DIR"})
    if (auto v = in.env.find(k); v != in.env.end() && !v->second.empty() && v->second[0] == '/')
      p.extra_writable.push_back(v->second);
  p.credentials = in.credentials;
  p.connect_ports = in.connect_ports;
  p.settings = settings;
  if (settings.On(kProtectionFilesystem)) {
    // The copy of the branches is made while the sandbox starts (Spawn).
    PL_ASSIGN_OR_RETURN(r->git_, ReadGitConfinement(in.workspace, r->private_dir_));
    p.git = r->git_;
  }
  // The person's git identity (git_identity.h), kept per store while the
  // repository's config files are unchanged.
  std::string common_dir = r->git_ ? r->git_->common_dir : "";
  for (const auto& [k, v] : GitIdentityEnv(in.workspace, common_dir,
                                           common_dir.empty() ? "" : JoinPath(in.store_root, "sandbox/.git-identity")))
    if (!r->in_.env.count(k)) r->in_.env[k] = v;
  r->policy_ = BuildPolicy(p);
  std::string inner = in.self_exe.substr(0, in.self_exe.find_last_of('/') + 1) + "pipeline-sandbox-exec";
  if (access(inner.c_str(), X_OK) == 0) r->policy_.inner_exe = inner;

  if (settings.On(kProtectionMemory) && settings.memory_limit_bytes > 0) {
    if (kernel.memory != MemoryControl::kNone) {
      if (in.early_cgroup && in.early_cgroup->started()) {
        // Taken at the spawn: its making (and on v2 the process's move) overlaps all of the above and below.
        r->early_cgroup_ = in.early_cgroup;
      } else {
        auto cg = MemoryCgroup::Create("pipeline-run-" + in.run_id, settings.memory_limit_bytes);
        if (!cg.ok()) return cg.error();
        r->cgroup_ = std::move(*cg);
      }
    } else {
      r->policy_.rlimit_as = settings.memory_limit_bytes;  // the approximation: per process
    }
  }
  r->policy_.start_gate_fd = kStartGateFd;
  return r;
}

Status ConfinedRun::FinishPreparation() {
  if (git_) PL_RETURN_IF_ERROR(FillPrivateHeads(*git_));
  return channel_.Listen(policy_.socket_path);
}

ConfinedRun::~ConfinedRun() { (void)Finish(); }

Result<SpawnedProcess> ConfinedRun::Spawn(SpawnOptions opts) {
  if (opts.argv.empty() || opts.argv[0].empty()) return InvalidArgument("empty command");
  std::string agent_argv0 = opts.argv[0];
  opts.argv = policy_.Wrap(opts.argv, in_.self_exe, bwrap_);
  std::map<std::string, std::string> inherited = Environ();
  std::map<std::string, std::string> set = in_.env;
  for (const auto& [k, v] : opts.env_set) set[k] = v;
  opts.env_set = AllowedEnvironment(inherited, in_.pass_env, set, policy_);
  opts.env_unset.clear();
  for (const auto& [k, v] : inherited)
    if (!opts.env_set.count(k)) opts.env_unset.push_back(k);
  PL_RETURN_IF_ERROR(CheckProgram(agent_argv0, opts.env_set.count("PATH") ? opts.env_set.at("PATH") : "", in_.workspace));
  opts.cwd = in_.workspace;
  if (early_cgroup_) {
    auto cg = early_cgroup_->Take();
    early_cgroup_ = nullptr;
    if (!cg.ok()) return cg.error();
    cgroup_ = std::move(*cg);
    inside_cgroup_ = !cgroup_->ThreadMoves();
  }
  // A child starts in the cgroup of the thread that forks it: we step in to
  // start the sandbox, and out again. On v1 only this thread moves, which
  // spares the kernel's wait for a whole-process move (memory_limit.h).
  bool thread_only = cgroup_ && cgroup_->ThreadMoves();
  if (cgroup_ && !inside_cgroup_) PL_RETURN_IF_ERROR(thread_only ? cgroup_->EnterThread() : cgroup_->EnterSelf());
  // The start gate: a socket (a send to a gone reader fails instead of
  // raising SIGPIPE) whose far end the inner step reads its go from.
  int gate[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, gate) != 0)
    return IOError(std::string("socketpair: ") + strerror(errno));
  if (gate[0] == kStartGateFd) {  // dup2 onto itself would keep close-on-exec
    int moved = fcntl(gate[0], F_DUPFD_CLOEXEC, 10);
    close(gate[0]);
    gate[0] = moved;
  }
  opts.pass_fds.emplace_back(gate[0], kStartGateFd);
  auto child = pipeline::Spawn(opts);
  close(gate[0]);
  Status ready = child.ok() ? Status::Ok() : Status(child.error());
  if (cgroup_) {
    Status left = thread_only ? cgroup_->LeaveThread() : cgroup_->LeaveSelf();
    inside_cgroup_ = !left.ok();
    if (ready.ok()) ready = left;
  }
  // While bubblewrap builds the sandbox (~10 ms): the rest of the
  // preparation, which only the agent needs. Then the go.
  if (ready.ok()) ready = FinishPreparation();
  if (ready.ok() && send(gate[1], "g", 1, MSG_NOSIGNAL) != 1)
    ready = IOError(std::string("cannot start the run's sandbox: ") + strerror(errno));
  close(gate[1]);
  if (!ready.ok() && child.ok()) {
    SignalGroup(child->pid, SIGKILL);
    return ready.error();
  }
  return child;
}

Status ConfinedRun::Finish() {
  if (finished_) return Status::Ok();
  finished_ = true;
  Status st = Status::Ok();
  if (git_) st = CarryBackTaskBranch(*git_, in_.workspace);
  // Never remove (and kill what is in) a cgroup the monitor is still inside.
  if (cgroup_ && inside_cgroup_) inside_cgroup_ = !cgroup_->LeaveSelf().ok();
  if (cgroup_ && !inside_cgroup_) cgroup_->Remove();
  (void)RemoveAll(private_dir_);
  // Within the run's own time (before its end is recorded), not the next start's.
  LeaveSparePrivateDir(JoinPath(in_.store_root, "sandbox"), git_ ? git_->common_dir : "");
  return st;
}

}  // namespace pipeline
