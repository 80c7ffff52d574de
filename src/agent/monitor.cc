#include "agent/monitor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "agent/capped_log.h"
#include "agent/launch_plan.h"
#include "agent/output_reader.h"
#include "agent/pricing.h"
#include "agent/run_store.h"
#include "tasks/task_queries.h"
#include "config/config.h"
#include "sandbox/confined_run.h"
#include "tasks/task_store.h"
#include "proc/process.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline {
namespace {

constexpr Micros kProgressEvery = 250'000;  // row updates while running, at most this often
constexpr Micros kFlushEvery = 1'000'000;   // log tails written to disk
constexpr size_t kMaxLine = 4u << 20;       // longer stdout lines are skipped, not parsed
constexpr size_t kOutputTail = 4096;        // of each stream, kept for the error message of a failed run

// Keeps about the last kOutputTail bytes of a stream (trimmed in steps, not
// on every write).
void AppendToTail(std::string* tail, const char* p, size_t n) {
  tail->append(p, n);
  if (tail->size() > 2 * kOutputTail) tail->erase(0, tail->size() - kOutputTail);
}

class Handshake {
 public:
  explicit Handshake(int fd) : fd_(fd) {}
  ~Handshake() { Close(); }
  void Send(const std::string& msg) {
    if (fd_ < 0) return;
    std::string line = SingleLine(msg) + "\n";
    ssize_t n;
    do n = write(fd_, line.data(), line.size());
    while (n < 0 && errno == EINTR);
    Close();
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

std::optional<std::string> GitHead(const std::string& workspace) {
  Command c;
  c.argv = {"git", "-C", workspace, "rev-parse", "--verify", "-q", "HEAD"};
  c.timeout_ms = 30000;
  auto r = RealProcessRunner().Run(c);
  if (!r.ok() || !r->ok()) return std::nullopt;
  std::string head = Trim(r->out);
  return head.empty() ? std::nullopt : std::optional<std::string>(head);
}

bool AgentCommentedSince(Db& db, const std::string& task_id, Micros since) {
  auto found = HasAgentCommentSince(db, task_id, since);
  return found.ok() && *found;
}

enum class StopReason { kNone, kTimeout, kKilled, kOverBudget, kMaxIter };

// Everything the loop tracks for one running agent.
class Supervisor {
 public:
  Supervisor(Db& db, const RunRecord& run, const LaunchPlan& plan, std::unique_ptr<OutputReader> reader,
             SpawnedProcess agent, int sigfd)
      : db_(db), run_(run), plan_(plan), reader_(std::move(reader)), agent_(agent), sigfd_(sigfd) {}

  Status OpenLogs() {
    PL_RETURN_IF_ERROR(out_log_.Open(run_.stdout_path, plan_.log_cap_bytes));
    return err_log_.Open(run_.stderr_path, plan_.log_cap_bytes);
  }

  void Loop();
  RunOutcome Outcome(Micros started_at);
  // The run channel of a confined run: served from the loop.
  void ServeChannel(RunChannelServer* channel, RunChannelServer::Handler handler) {
    channel_ = channel;
    channel_handler_ = std::move(handler);
  }

 private:
  Micros Now() const { return SystemClock().MonotonicNow(); }
  void Stop(StopReason why);
  void OnStdout(const char* p, size_t n);
  void OnStderr(const char* p, size_t n);
  void CheckLimits();
  void Tick();

  Db& db_;
  const RunRecord& run_;
  const LaunchPlan& plan_;
  std::unique_ptr<OutputReader> reader_;
  SpawnedProcess agent_;
  int sigfd_;
  RunChannelServer* channel_ = nullptr;
  RunChannelServer::Handler channel_handler_;
  int pidfd_ = -1;
  CappedLog out_log_, err_log_;
  std::string line_;
  bool skipping_line_ = false;
  std::string err_tail_;
  std::string out_tail_;  // the end of stdout, said when a failed child wrote nothing on stderr
  StopReason stop_ = StopReason::kNone;
  Micros kill_at_ = 0;         // SIGKILL the group then
  Micros drain_until_ = 0;     // after the agent exits, read the pipes until then at most
  bool exited_ = false;
  ExitInfo exit_;
  double reported_cost_ = -1;
  int64_t reported_turns_ = -1;
  Micros next_progress_ = 0, next_flush_ = 0;
};

void Supervisor::Stop(StopReason why) {
  if (stop_ != StopReason::kNone || exited_) return;
  stop_ = why;
  SignalGroup(agent_.pid, SIGTERM);
  kill_at_ = Now() + plan_.kill_grace_ms * 1000;
}

void Supervisor::OnStdout(const char* p, size_t n) {
  out_log_.Append(std::string_view(p, n));
  AppendToTail(&out_tail_, p, n);
  for (size_t i = 0; i < n; ++i) {
    char c = p[i];
    if (c == '\n') {
      if (!skipping_line_) reader_->OnLine(line_);
      line_.clear();
      skipping_line_ = false;
    } else if (!skipping_line_) {
      line_.push_back(c);
      if (line_.size() > kMaxLine) skipping_line_ = true, line_.clear();
    }
  }
  CheckLimits();
}

void Supervisor::OnStderr(const char* p, size_t n) {
  err_log_.Append(std::string_view(p, n));
  AppendToTail(&err_tail_, p, n);
}

void Supervisor::CheckLimits() {
  if (plan_.max_cost_cents && reader_->cost_cents() > static_cast<double>(*plan_.max_cost_cents))
    Stop(StopReason::kOverBudget);
  else if (plan_.max_iter && reader_->turns() > *plan_.max_iter)
    Stop(StopReason::kMaxIter);
}

void Supervisor::Tick() {
  Micros now = Now();
  if (now >= next_progress_) {
    next_progress_ = now + kProgressEvery;
    if (reader_->cost_cents() != reported_cost_ || reader_->turns() != reported_turns_) {
      reported_cost_ = reader_->cost_cents();
      reported_turns_ = reader_->turns();
      (void)UpdateRunProgress(db_, run_.run_id, reported_cost_, reported_turns_);
    }
    // A kill request whose signal we missed (or that came before we listened).
    if (!exited_ && KillRequested(db_, run_.run_id)) Stop(StopReason::kKilled);
  }
  if (now >= next_flush_) {
    next_flush_ = now + kFlushEvery;
    out_log_.Flush();
    err_log_.Flush();
  }
}

void Supervisor::Loop() {
  pidfd_ = PidfdOpen(agent_.pid);
  Micros start = Now();
  Micros deadline = plan_.timeout_s > 0 ? start + plan_.timeout_s * 1'000'000 : 0;
  int fds[2] = {agent_.stdout_fd, agent_.stderr_fd};
  char buf[65536];
  while (true) {
    if (exited_ && fds[0] < 0 && fds[1] < 0) break;
    Micros now = Now();
    if (exited_ && now >= drain_until_) break;  // a process that left the group still holds a pipe
    if (deadline && now >= deadline && !exited_) Stop(StopReason::kTimeout);
    if (kill_at_ && now >= kill_at_) {
      SignalGroup(agent_.pid, SIGKILL);
      kill_at_ = 0;
    }
    Micros wake = next_progress_;
    if (deadline && !exited_ && stop_ == StopReason::kNone) wake = std::min(wake, deadline);
    if (kill_at_) wake = std::min(wake, kill_at_);
    if (exited_) wake = std::min(wake, drain_until_);
    int timeout_ms = static_cast<int>(std::max<Micros>(0, (wake - now + 999) / 1000));

    struct pollfd pfd[5];
    int n = 0;
    int idx_out = -1, idx_err = -1, idx_pid = -1, idx_sig = -1, idx_chan = -1;
    if (channel_ && !exited_) idx_chan = n, pfd[n++] = {channel_->fd(), POLLIN, 0};
    if (fds[0] >= 0) idx_out = n, pfd[n++] = {fds[0], POLLIN, 0};
    if (fds[1] >= 0) idx_err = n, pfd[n++] = {fds[1], POLLIN, 0};
    if (!exited_) idx_pid = n, pfd[n++] = {pidfd_ >= 0 ? pidfd_ : -1, POLLIN, 0};
    if (sigfd_ >= 0) idx_sig = n, pfd[n++] = {sigfd_, POLLIN, 0};
    // Without a pidfd (old kernels) we notice the exit by polling waitpid.
    if (pidfd_ < 0 && !exited_) timeout_ms = std::min(timeout_ms, 50);
    int rc = poll(pfd, n, timeout_ms);
    if (rc < 0 && errno != EINTR) break;
    for (int which : {0, 1}) {
      int k = which == 0 ? idx_out : idx_err;
      if (rc <= 0 || k < 0 || !(pfd[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = read(fds[which], buf, sizeof buf);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got <= 0) {
        close(fds[which]);
        fds[which] = -1;
        continue;
      }
      if (which == 0) OnStdout(buf, static_cast<size_t>(got));
      else OnStderr(buf, static_cast<size_t>(got));
    }
    if (rc > 0 && idx_chan >= 0 && (pfd[idx_chan].revents & POLLIN)) channel_->ServePending(channel_handler_);
    if (rc > 0 && idx_sig >= 0 && (pfd[idx_sig].revents & POLLIN)) {
      struct signalfd_siginfo si;
      if (read(sigfd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        // SIGUSR1 is `agent kill`; SIGTERM/SIGINT/SIGHUP mean someone wants the monitor gone:
        // the agent goes with it, and the run is recorded as killed.
        if (si.ssi_signo != SIGUSR1 || KillRequested(db_, run_.run_id)) Stop(StopReason::kKilled);
      }
    }
    if (!exited_ && (idx_pid < 0 || pidfd_ < 0 || (rc > 0 && (pfd[idx_pid].revents & POLLIN)))) {
      int status = 0;
      pid_t w = waitpid(agent_.pid, &status, WNOHANG);
      if (w == agent_.pid) {
        exited_ = true;
        exit_ = DecodeWaitStatus(status);
        // What is left of the group (daemon children) goes now; SIGKILL follows after the grace.
        if (GroupAlive(agent_.pid)) {
          SignalGroup(agent_.pid, SIGTERM);
          kill_at_ = Now() + plan_.kill_grace_ms * 1000;
        }
        drain_until_ = Now() + plan_.kill_grace_ms * 1000 + 1'000'000;
      }
    }
    Tick();
  }
  if (GroupAlive(agent_.pid)) SignalGroup(agent_.pid, SIGKILL);
  if (!line_.empty() && !skipping_line_) reader_->OnLine(line_);  // a last line without newline
  for (int fd : fds)
    if (fd >= 0) close(fd);
  if (pidfd_ >= 0) close(pidfd_);
  out_log_.Close();
  err_log_.Close();
}

RunOutcome Supervisor::Outcome(Micros started_at) {
  RunOutcome o;
  o.ended_at = SystemClock().Now();
  o.cost_cents = reader_->cost_cents();
  o.turns = reader_->turns();
  if (exit_.signaled()) o.term_signal = exit_.term_signal;
  else o.exit_code = exit_.exit_code;
  o.head_after = GitHead(run_.workspace);
  switch (stop_) {
    case StopReason::kKilled:
      o.status = RunStatus::kKilled;
      o.error = "killed on request";
      return o;
    case StopReason::kTimeout:
      o.status = RunStatus::kTimeout;
      o.error = "timed out after " + std::to_string(plan_.timeout_s) + " s";
      return o;
    case StopReason::kOverBudget:
      o.status = RunStatus::kOverBudget;
      o.error = "cost passed the limit of " + std::to_string(*plan_.max_cost_cents) + " cents";
      return o;
    case StopReason::kMaxIter:
      o.status = RunStatus::kFailed;
      o.error = "max iterations reached";
      return o;
    case StopReason::kNone:
      break;
  }
  if (exit_.success()) {
    if (reader_->error()) {
      o.status = RunStatus::kFailed;
      o.error = reader_->error();
    } else if (run_.task_id && o.head_after == run_.head_before &&
               AgentCommentedSince(db_, *run_.task_id, started_at)) {
      o.status = RunStatus::kNeedsInput;
    } else {
      o.status = RunStatus::kDone;
    }
    return o;
  }
  o.status = RunStatus::kFailed;
  std::string why = reader_->error().value_or("");
  if (why.empty()) {
    std::string tail = Trim(TailUtf8(err_tail_, 2000));
    // Nothing on stderr: the end of stdout, unless it is an agent's JSON
    // stream (its reader speaks for it).
    if (tail.empty()) {
      std::string out = Trim(TailUtf8(out_tail_, 500));
      size_t last_line = out.rfind('\n');
      std::string last = last_line == std::string::npos ? out : out.substr(last_line + 1);
      if (!last.empty() && last[0] != '{') tail = out;
    }
    // A verify run's child is the check, not an agent: name it by its command.
    std::string child = "agent";
    if ((run_.phase == "verify" || run_.phase == "integrate") && !run_.argv.empty())
      child = "`" + TruncateUtf8(SingleLine(Join(run_.argv, " ")), 120) + "`";
    why = exit_.signaled() ? child + " killed by signal " + std::to_string(exit_.term_signal)
                           : child + " exited with code " + std::to_string(exit_.exit_code);
    if (!tail.empty()) why += ": " + SingleLine(tail);
  }
  o.error = why;
  return o;
}

// Signals we take through a signalfd instead of dying of them.
int BlockSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGUSR1, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

// What a confined run may ask over its channel: comment on its own task
// (one transaction, written by us as the run's author) and read it.
nlohmann::json HandleRunRequest(Db& db, const RunRecord& run, const std::string& author, const nlohmann::json& req) {
  auto error = [](const std::string& why) { return nlohmann::json{{"ok", false}, {"error", why}}; };
  try {
    std::string op = req.value("op", ""), id = req.value("task_id", "");
    if (!run.task_id) return error("refused: this run has no task");
    if (id != *run.task_id) return error("refused: a run may only reach its own task, " + *run.task_id);
    TaskStore store(db, SystemClock());
    if (op == "comment") {
      auto c = store.AddComment(id, req.value("text", ""), author);
      if (!c.ok()) return error(c.message());
    } else if (op != "show") {
      return error("refused: " + op);
    }
    auto t = store.Get(id);
    if (!t.ok()) return error(t.message());
    return {{"ok", true}, {"task", TaskToJson(*t)}};
  } catch (const std::exception& e) {
    return error(std::string("malformed request: ") + e.what());
  }
}

// A confined run's memory cgroup, made (and on cgroup v2 entered) on a
// thread while the monitor does the rest of its preparation
// (sandbox/memory_limit.h).
void StartCgroupEarly(const Config& config, const RunRecord& run, EarlyCgroup* early) {
  auto settings = LoadSandboxSettings(config);
  if (!settings.ok() || !settings->enabled || run.phase == "integrate") return;
  if (!settings->On(kProtectionMemory) || settings->memory_limit_bytes <= 0) return;
  if (CachedProtections().memory == MemoryControl::kNone) return;
  early->Start("pipeline-run-" + run.run_id, settings->memory_limit_bytes);
}

Result<std::unique_ptr<ConfinedRun>> PrepareConfinement(const RootPaths& paths, const Config& config,
                                                       const RunRecord& run, const LaunchPlan& plan,
                                                       EarlyCgroup* early, std::string* description) {
  PL_ASSIGN_OR_RETURN(SandboxSettings settings, LoadSandboxSettings(config));
  // The merge-queue worker is pipeline itself (`pipeline integrate-task`), not
  // an agent: it must reach the store and move the base branch. Dev and
  // verify runs execute what an agent wrote, and are confined.
  if (!settings.enabled || run.phase == "integrate") return std::unique_ptr<ConfinedRun>();
  const KernelProtections& kernel = CachedProtections();
  *description = DescribeProtections(kernel);
  ConfinedRunInputs in;
  in.run_id = run.run_id;
  in.workspace = run.workspace;
  in.store_root = paths.root;
  in.prompt_file = run.prompt_path;
  in.self_exe = SelfExePath();
  in.credentials = plan.credentials;
  in.pass_env = plan.pass_env;
  in.connect_ports = plan.net_ports;
  in.env = plan.env;
  in.settings = settings;
  in.early_cgroup = early;
  return ConfinedRun::Prepare(in, kernel);
}

}  // namespace

int RunMonitor(const RootPaths& paths, const std::string& run_id, int handshake_fd) {
  Handshake hs(handshake_fd);
  int sigfd = BlockSignals();
  auto db_or = OpenStore(paths);
  if (!db_or.ok()) return hs.Send("error: " + db_or.message()), 1;
  Db& db = **db_or;
  pid_t self = getpid();
  auto claimed = ClaimRunForMonitor(db, run_id, self, ProcessStartTime(self).value_or(0));
  if (!claimed.ok()) return hs.Send("error: " + claimed.message()), 1;
  RunRecord run = std::move(*claimed);
  Micros now = SystemClock().Now();
  auto fail = [&](const std::string& why) {
    (void)FailRun(db, run_id, why, SystemClock().Now());
    hs.Send("error: " + why);
    return 1;
  };
  if (run.kill_requested) {
    RunOutcome o;
    o.status = RunStatus::kKilled;
    o.error = "killed before it started";
    o.ended_at = now;
    (void)FinishRun(db, run_id, o);
    return hs.Send("error: run was killed before it started"), 1;
  }
  auto config = Config::Load(paths.config());
  if (!config.ok()) return fail(config.message());
  EarlyCgroup early_cgroup;  // left and removed on every early return
  StartCgroupEarly(*config, run, &early_cgroup);
  auto pricing = PricingTable::FromConfig(*config);
  if (!pricing.ok()) return fail(pricing.message());
  auto plan = PlanLaunch(paths, *config, run, SelfExePath());
  if (!plan.ok()) return fail(plan.message());
  auto reader = MakeReader(plan->reader, *pricing, plan->model);
  if (!reader) return fail("unknown output reader " + plan->reader);
  if (Status s = MakeDirs(RunDir(paths, run_id)); !s.ok()) return fail(s.message());

  SpawnOptions opts;
  opts.argv = plan->argv;
  opts.cwd = plan->cwd;
  opts.env_set = plan->env;
  if (!run.task_id) opts.env_unset.push_back("PIPELINE_TASK_ID");  // never inherit a caller's task
  opts.new_process_group = true;
  opts.stdout_mode = SpawnOptions::Out::kPipe;
  opts.stderr_mode = SpawnOptions::Out::kPipe;
  std::string protections;
  auto confined = PrepareConfinement(paths, *config, run, *plan, &early_cgroup, &protections);
  if (!confined.ok()) return fail(confined.message());
  // A confined run's preparation has read HEAD's commit from git's files
  // already; only an unconfined run (or an answer the files do not give)
  // starts git for it.
  std::optional<std::string> head = *confined ? (*confined)->HeadBefore() : std::nullopt;
  run.head_before = head ? head : GitHead(run.workspace);
  // The sandbox's processes orphaned when its bwrap exits come to this
  // process, which reaps them at the end (below), instead of to the
  // machine's init, whose reaping may lag by a second.
  if (*confined) (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
  auto agent = *confined ? (*confined)->Spawn(opts) : Spawn(opts);
  if (!agent.ok()) return fail(agent.message());

  Micros started_at = SystemClock().Now();
  Supervisor sup(db, run, *plan, std::move(reader), *agent, sigfd);
  Status logs = sup.OpenLogs();
  std::string author = plan->env.count("PIPELINE_AUTHOR") ? plan->env.at("PIPELINE_AUTHOR") : "agent:engineer";
  if (*confined) {
    // What this run is protected by, for whoever reads the run's files.
    (void)WriteFileAtomic(RunDir(paths, run_id) + "/sandbox.txt", protections + "\n", FileSync::kNoFsync);
    sup.ServeChannel(&(*confined)->channel(),
                     [&](const nlohmann::json& req) { return HandleRunRequest(db, run, author, req); });
  }
  Status marked = MarkRunRunning(db, run_id, agent->pid, started_at, run.head_before, plan->profile);
  if (!marked.ok() || !logs.ok()) {
    SignalGroup(agent->pid, SIGKILL);
    waitpid(agent->pid, nullptr, 0);
    return fail(!marked.ok() ? marked.message() : logs.message());
  }
  hs.Send("ok");
  sup.Loop();
  // The sandbox's namespace is torn down asynchronously once its init is
  // gone: the end is recorded only when nothing of the run's group is left.
  for (int i = 0; *confined && i < 200; ++i) {
    while (waitpid(-agent->pid, nullptr, WNOHANG) > 0) {}  // its zombies would keep the group alive
    if (!GroupAlive(agent->pid)) break;
    SignalGroup(agent->pid, SIGKILL);
    usleep(25000);
  }
  bool memory_limit = *confined && (*confined)->MemoryLimitHit();
  // The task branch the run moved inside its sandbox comes back before head_after is read.
  Status carried = *confined ? (*confined)->Finish() : Status::Ok();
  RunOutcome outcome = sup.Outcome(started_at);
  if (memory_limit && outcome.status != RunStatus::kKilled && outcome.status != RunStatus::kTimeout) {
    outcome.status = RunStatus::kFailed;
    outcome.error = "memory limit";
  } else if (!carried.ok() && outcome.status == RunStatus::kDone) {
    outcome.status = RunStatus::kFailed;
    outcome.error = carried.message();
  }
  // The end is recorded before we exit: whoever watches our pid reads a terminal row.
  Status finished = FinishRun(db, run_id, outcome);
  return finished.ok() ? 0 : 1;
}

}  // namespace pipeline
