// The batched merge queue against the serial one (see docs/benchmarks.md,
// "Merge queue"): N verified changes, a check that takes V seconds
// (`sleep V`, then fails when the tree holds a broken* file), a share of the
// changes failing it and a share conflicting with the base. The queue is
// driven as the scheduler drives it: up to batch_max undecided changes in
// queue order through `pipeline integrate-batch`, the requeued ones again,
// until every change is decided. Reported per scenario: the wall time to
// land everything that can land, beside the serial bound (N x V: each change
// checked once, one at a time) and the batch limit (2V: one check of the
// batch tip, one more round when something fails), their ratio, check runs
// per landed change, and whether every commit the base gained passes the
// check (verified here, commit by commit).
//
// Usage: bench_queue [V=1] [batch_max=32] [parallel=4]
// Environment: BENCH_QUEUE_ONLY="N fail% conflict%" runs one scenario;
// BENCH_QUEUE_LOG=1 prints each batch's log and answers.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/root.h"
#include "tasks/task_store.h"
#include "testutil/testutil.h"
#include "util/text.h"

using namespace pipeline;
using pipeline::testing::InitGitRepo;
using pipeline::testing::RunArgv;
using pipeline::testing::RunPipeline;
using pipeline::testing::TempDir;
using pipeline::testing::WriteTextFile;

namespace {

std::string Git(const std::string& repo, std::vector<std::string> args) {
  args.insert(args.begin(), {"git", "-C", repo});
  auto r = RunArgv(args);
  if (!r.ok()) {
    fprintf(stderr, "git %s failed: %s\n", args[3].c_str(), r.err.c_str());
    exit(1);
  }
  return Trim(r.out);
}

struct Scenario {
  int n;
  int fail_pct, conflict_pct;
};

struct Figures {
  double wall_s = 0;
  int landed = 0, failed = 0, conflicted = 0, checks = 0, batches = 0;
  bool every_commit_passes = true;
  int expected_landed = 0;
};

Figures RunScenario(const Scenario& sc, double v, int batch_max, int parallel) {
  TempDir dir;
  const std::string repo = dir.path() + "/repo";
  RunArgv({"mkdir", "-p", repo});
  InitGitRepo(repo);
  auto init = RunPipeline({"init"}, repo);
  if (!init.ok()) {
    fprintf(stderr, "init failed: %s\n", init.err.c_str());
    exit(1);
  }
  RootPaths paths{repo + "/.pipeline"};
  WriteTextFile(paths.config(),
                fmt::format("[verify]\ncommand = [\"sh\", \"-c\", \"sleep {}; for f in broken*; do if [ -e \\\"$f\\\" ]; "
                            "then echo \\\"FAIL: $f\\\"; exit 1; fi; done\"]\n[integrate]\nbatch_max = {}\nparallel = {}\n",
                            v, batch_max, parallel));
  // Which changes fail and which conflict: spread evenly, never both.
  const int n_fail = sc.n * sc.fail_pct / 100, n_conflict = sc.n * sc.conflict_pct / 100;
  std::set<int> fail, conflict;
  for (int i = 0; i < n_fail; ++i) fail.insert((i * sc.n) / std::max(1, n_fail) + sc.n / (2 * std::max(1, n_fail)));
  for (int i = 0; i < n_conflict; ++i) {
    int at = (i * sc.n) / std::max(1, n_conflict) + 1;
    while (fail.count(at % sc.n) || conflict.count(at % sc.n)) ++at;
    conflict.insert(at % sc.n);
  }
  std::vector<std::string> ids;
  {
    auto db = OpenStore(paths);
    TaskStore store(**db, SystemClock());
    for (int i = 0; i < sc.n; ++i) {
      NewTask t;
      t.title = "change " + std::to_string(i);
      t.ns = "app";
      auto made = store.Create(t);
      (void)store.SetStatus(made->id, TaskStatus::kVerified);
      ids.push_back(made->id);
      std::string file = fail.count(i) ? "broken" + std::to_string(i) : conflict.count(i) ? "shared.txt"
                                                                                          : "f" + std::to_string(i);
      Git(repo, {"checkout", "-q", "-b", "pipeline/" + made->id, "main"});
      WriteTextFile(repo + "/" + file, "change " + std::to_string(i) + "\n");
      Git(repo, {"add", file});
      Git(repo, {"commit", "-q", "-m", "work " + std::to_string(i)});
      Git(repo, {"checkout", "-q", "main"});
    }
  }
  // The conflicting changes all write shared.txt, which main now writes too.
  if (!conflict.empty()) {
    WriteTextFile(repo + "/shared.txt", "main's own\n");
    Git(repo, {"add", "shared.txt"});
    Git(repo, {"commit", "-q", "-m", "main moves on"});
  }
  const std::string start = Git(repo, {"rev-parse", "main"});

  Figures f;
  f.expected_landed = sc.n - static_cast<int>(fail.size()) - static_cast<int>(conflict.size());
  std::vector<std::string> pending = ids;
  std::string green;
  auto t0 = std::chrono::steady_clock::now();
  while (!pending.empty() && f.batches < 10 * sc.n) {
    std::vector<std::string> batch(pending.begin(), pending.begin() + std::min<size_t>(batch_max, pending.size()));
    std::vector<std::string> args = {"integrate-batch"};
    args.insert(args.end(), batch.begin(), batch.end());
    if (!green.empty()) args.insert(args.end(), {"--green-base", green});
    auto r = RunPipeline(args, repo);
    ++f.batches;
    if (getenv("BENCH_QUEUE_LOG")) fprintf(stderr, "%s%s", r.err.c_str(), r.out.c_str());
    std::map<std::string, std::string> outcome;
    for (const std::string& line : Split(Trim(r.out), '\n')) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_object()) continue;
      if (j.contains("task")) {
        outcome[j["task"]] = j["outcome"];
      } else if (j.value("outcome", "") == "batch") {
        f.checks += j.value("checks_run", 0);
        green = j.value("green_base", "");
      }
    }
    std::vector<std::string> next;
    for (const std::string& id : batch) {
      const std::string o = outcome[id];
      if (o == "integrated") ++f.landed;
      else if (o == "check-failed") ++f.failed;
      else if (o == "conflict") ++f.conflicted;
      else next.push_back(id);
    }
    if (outcome.empty()) {
      fprintf(stderr, "no answer from integrate-batch: %s\n", r.err.c_str());
      exit(1);
    }
    next.insert(next.end(), pending.begin() + batch.size(), pending.end());
    pending = next;
  }
  f.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Every commit the base gained passes the check.
  for (const std::string& sha : Split(Git(repo, {"rev-list", start + "..main"}), '\n')) {
    if (sha.empty()) continue;
    if (Git(repo, {"ls-tree", "--name-only", sha}).find("broken") != std::string::npos) f.every_commit_passes = false;
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const double v = argc > 1 ? atof(argv[1]) : 1.0;
  const int batch_max = argc > 2 ? atoi(argv[2]) : 32;
  const int parallel = argc > 3 ? atoi(argv[3]) : 4;
  printf("merge queue: check = sleep %.1f s, batch_max %d, parallel %d\n", v, batch_max, parallel);
  printf("%4s %5s %6s | %7s %8s %7s %6s %7s | %6s %6s %7s %8s %6s\n", "N", "fail", "confl", "wall s", "serial s",
         "limit s", "x lim", "x ser", "landed", "failed", "confl.", "chk/land", "clean");
  // BENCH_QUEUE_ONLY="N fail conflict" runs one scenario (with
  // BENCH_QUEUE_LOG set, each batch's log and answers are printed).
  int only_n = 0, only_fail = 0, only_conflict = 0;
  if (const char* only = getenv("BENCH_QUEUE_ONLY")) sscanf(only, "%d %d %d", &only_n, &only_fail, &only_conflict);
  for (int n : {12, 32})
    for (int fail : {0, 10, 25})
      for (int conflict : {0, 20}) {
        if (only_n && (n != only_n || fail != only_fail || conflict != only_conflict)) continue;
        Figures f = RunScenario({n, fail, conflict}, v, batch_max, parallel);
        const double serial = n * v, limit = 2 * v;
        printf("%4d %4d%% %5d%% | %7.2f %8.1f %7.1f %6.2f %7.2f | %6d %6d %7d %8.2f %6s\n", n, fail, conflict, f.wall_s,
               serial, limit, f.wall_s / limit, f.wall_s / serial, f.landed, f.failed, f.conflicted,
               f.landed ? double(f.checks) / f.landed : 0.0,
               f.every_commit_passes && f.landed == f.expected_landed ? "yes" : "NO");
        fflush(stdout);
      }
  return 0;
}
