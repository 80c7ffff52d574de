// `pipeline serve` with a large backlog: API latency (p50/p99 per endpoint)
// with N tasks (default 10,000), then, when Chromium and puppeteer-core are
// there (scripts/install-browser-driver.sh), the board's first render of all
// N tasks in the browser and the latency from a CLI change to the page
// showing it (median, p99).
//
//   bench_serve [tasks] [requests per endpoint] [browser rounds]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "serve_fixture.h"
#include "store/root.h"
#include "tasks/task_store.h"
#include "util/clock.h"

using namespace pipeline;
using namespace pipeline::testing;

namespace {

// The backlog: most tasks done or open, some waiting for a person.
void Fill(const std::string& dir, int n) {
  RootPaths paths;
  paths.root = dir + "/.pipeline";
  auto db = OpenStore(paths);
  if (!db.ok()) {
    fprintf(stderr, "bench_serve: %s\n", db.message().c_str());
    exit(1);
  }
  TaskStore store(**db, SystemClock());
  Status st = (*db)->Write([&]() -> Status {
    for (int i = 0; i < n; ++i) {
      NewTask t;
      t.title = "Task number " + std::to_string(i) + " of the benchmark backlog";
      t.ns = "domain-" + std::to_string(i % 8);
      t.description = "Something to do.";
      PL_ASSIGN_OR_RETURN(Task created, store.Create(t));
      TaskStatus s = i % 10 < 6 ? TaskStatus::kDone : i % 10 < 8 ? TaskStatus::kOpen
                   : i % 10 == 8 ? TaskStatus::kReview : TaskStatus::kNeedsHelp;
      PL_RETURN_IF_ERROR(store.SetStatus(created.id, s));
      if (s == TaskStatus::kNeedsHelp)
        PL_RETURN_IF_ERROR(store.AddComment(created.id, "Which way should this go?", "agent:dev").status());
    }
    return Status::Ok();
  });
  if (!st.ok()) {
    fprintf(stderr, "bench_serve: %s\n", st.message().c_str());
    exit(1);
  }
}

// A commit before each request: what the first reader after a change pays.
const std::string kAfterCommit = "/api/tasks (after a commit)";
void Touch(const std::string& dir, int i) {
  RootPaths paths;
  paths.root = dir + "/.pipeline";
  static auto db = OpenStore(paths);
  if (!db.ok() || !(*db)->Exec("UPDATE tasks SET priority = " + std::to_string(i % 5) + " WHERE seq = 1").ok()) {
    fprintf(stderr, "bench_serve: cannot write the store\n");
    exit(1);
  }
}

double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  int tasks = argc > 1 ? atoi(argv[1]) : 10000;
  int requests = argc > 2 ? atoi(argv[2]) : 200;
  int rounds = argc > 3 ? atoi(argv[3]) : 30;
  TempDir dir;
  InitGitRepo(dir.path());
  if (!RunPipeline({"init"}, dir.path()).ok()) return 1;
  auto t0 = std::chrono::steady_clock::now();
  Fill(dir.path(), tasks);
  printf("bench_serve: %d tasks created in %.1f s\n", tasks,
         std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

  ServeProcess serve;
  if (std::string why = serve.Start(dir.path()); !why.empty()) {
    fprintf(stderr, "bench_serve: %s\n", why.c_str());
    return 1;
  }
  auto client = serve.Client();
  client.set_keep_alive(true);
  const std::string mid = "t-" + std::to_string(tasks / 2);
  printf("%-34s %10s %10s %10s\n", "GET (keep-alive)", "p50 ms", "p99 ms", "bytes");
  for (const std::string& path : std::vector<std::string>{"/api/tasks", kAfterCommit, "/api/tasks?ids=" + mid, "/api/status", "/api/tasks/" + mid, "/api/queue?limit=100",
                           "/api/budgets", "/metrics"}) {
    std::vector<double> ms;
    size_t bytes = 0;
    int n = requests;
    for (int i = 0; i < n; ++i) {
      if (path == kAfterCommit) Touch(dir.path(), i);
      auto start = std::chrono::steady_clock::now();
      auto r = client.Get(path == kAfterCommit ? "/api/tasks" : path);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      if (!r || r->status != 200) {
        fprintf(stderr, "bench_serve: GET %s failed\n", path.c_str());
        return 1;
      }
      bytes = r->body.size();
    }
    printf("%-34s %10.2f %10.2f %10zu\n", path.c_str(), Quantile(ms, 0.5), Quantile(ms, 0.99), bytes);
  }

  if (rounds <= 0) {
    printf("browser: skipped (0 rounds)\n");
    return 0;
  }
  std::string driver = SourceDir() + "/tools/browser/node_modules/puppeteer-core/package.json";
  if (!PathExists(driver) || !PathExists("/usr/bin/chromium")) {
    printf("browser: skipped (run scripts/install-browser-driver.sh and install chromium)\n");
    return 0;
  }
  // Open tasks (i % 10 in 6..7 above) for the rounds that move one to review.
  std::string open_ids;
  for (int i = 6; i < tasks && i / 10 < rounds; i += 10) open_ids += (open_ids.empty() ? "t-" : ",t-") + std::to_string(i + 1);
  auto r = RunArgv({"node", SourceDir() + "/tests/browser/dashboard.js", "bench", serve.url() + "/",
                    dir.path() + "/board.png", PipelineBin(), dir.path(), std::to_string(rounds), open_ids},
                   SourceDir(), {}, 600000);
  if (!r.ok()) {
    fprintf(stderr, "bench_serve: browser run failed: %s%s\n", r.err.c_str(), r.out.c_str());
    return 1;
  }
  auto j = ParseJson(Trim(r.out));
  printf("browser (Chromium): board first render with %d tasks: %lld ms (%lld tasks counted in the columns, "
         "%lld list rows and %lld attention cards drawn)\n",
         tasks, j.value("board_first_render_ms", 0LL), j.value("total", 0LL), j.value("rows", 0LL), j.value("cards", 0LL));
  printf("browser (Chromium): change (task create / task update) to board: median %lld ms, p99 %lld ms over %lld\n",
         j["change_to_page_ms"].value("median", 0LL), j["change_to_page_ms"].value("p99", 0LL),
         j["change_to_page_ms"].value("n", 0LL));
  printf("browser (Chromium): each change in order, ms: %s\n", j["change_to_page_ms"]["in_order"].dump().c_str());
  return 0;
}
