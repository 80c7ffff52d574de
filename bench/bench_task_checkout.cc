// What a task's own checkout costs on a large repository: 20,000 files
// (generated once in a temp dir), the scheduler's Git::EnsureWorktree for a
// new task, the same for a task that has its worktree already (the next
// patchset), and a confined run's git preparation (PrepareGitConfinement:
// private copy of refs/heads), against a bare `git worktree add -b` of the
// same commit. Interleaved (taking turns going first, each after a sync),
// each worktree removed between rounds (untimed).
//
//   bench_task_checkout [N] [FILES]     (default N = 10, FILES = 20000)
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_stats.h"
#include "git/git.h"
#include "proc/process.h"
#include "sandbox/git_confine.h"
#include "store/root.h"
#include "testutil/testutil.h"
#include "util/files.h"

using namespace pipeline;

using pipeline::bench::Median;
using pipeline::bench::P90;

static double Ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

// files files of ~200 bytes in 100 directories, one commit on main.
static bool MakeRepo(const std::string& repo, int files) {
  mkdir(repo.c_str(), 0755);
  testing::InitGitRepo(repo);
  std::string body(200, 'x');
  for (int i = 0; i < files; ++i) {
    std::string dir = repo + "/src/d" + std::to_string(i % 100);
    if (i < 100 && !MakeDirs(dir).ok()) return false;
    testing::WriteTextFile(dir + "/f" + std::to_string(i) + ".cc", "// " + std::to_string(i) + "\n" + body + "\n");
  }
  return testing::RunArgv({"git", "-C", repo, "add", "-A"}, "", {}, 600000).ok() &&
         testing::RunArgv({"git", "-C", repo, "commit", "-qm", "20k files"}, "", {}, 600000).ok();
}

static bool RunGit(const std::string& repo, std::vector<std::string> args) {
  args.insert(args.begin(), {"git", "-C", repo});
  auto r = testing::RunArgv(args, "", {}, 600000);
  if (!r.ok()) fprintf(stderr, "%s\n", r.err.c_str());
  return r.ok();
}

int main(int argc, char** argv) {
  int n = argc > 1 ? std::max(1, atoi(argv[1])) : 10;
  int files = argc > 2 ? std::max(1, atoi(argv[2])) : 20000;
  testing::TempDir dir;
  std::string repo = dir / "repo";
  auto made = std::chrono::steady_clock::now();
  if (!MakeRepo(repo, files)) {
    fprintf(stderr, "cannot make the repository\n");
    return 1;
  }
  fprintf(stderr, "repository of %d files made in %.0f ms\n", files, Ms(made));
  RootPaths paths{repo + "/.pipeline"};
  if (!MakeDirs(paths.worktrees_dir()).ok()) return 1;
  pipeline::Git git(RealProcessRunner(), repo);
  std::vector<double> bare, ensure, reuse, confine;
  for (int i = 0; i < n; ++i) {
    std::string id = "t-" + std::to_string(i);
    std::string bare_path = dir / ("bare-" + id);
    // Each timed checkout starts with no dirty pages of the one before (the
    // kernel's write-back would bill the second for the first), and the two
    // take turns going first.
    auto timed_bare = [&]() {
      sync();
      auto t = std::chrono::steady_clock::now();
      if (!RunGit(repo, {"worktree", "add", "--quiet", "-b", "bare/" + id, bare_path, "main"})) return false;
      bare.push_back(Ms(t));
      return true;
    };
    Result<std::string> ws = std::string();
    auto timed_ensure = [&]() {
      sync();
      auto t = std::chrono::steady_clock::now();
      ws = git.EnsureWorktree(paths, id, "main");
      if (!ws.ok()) {
        fprintf(stderr, "EnsureWorktree: %s\n", ws.message().c_str());
        return false;
      }
      ensure.push_back(Ms(t));
      return true;
    };
    if (i % 2 == 0 ? !(timed_bare() && timed_ensure()) : !(timed_ensure() && timed_bare())) return 1;
    auto t = std::chrono::steady_clock::now();

    t = std::chrono::steady_clock::now();
    if (!git.EnsureWorktree(paths, id, "main").ok()) return 1;
    reuse.push_back(Ms(t));

    std::string private_dir = dir / ("private-" + id);
    t = std::chrono::steady_clock::now();
    auto g = PrepareGitConfinement(*ws, private_dir);
    if (!g.ok()) {
      fprintf(stderr, "PrepareGitConfinement: %s\n", g.message().c_str());
      return 1;
    }
    confine.push_back(Ms(t));

    // Untimed: both gone before the next round.
    if (!RunGit(repo, {"worktree", "remove", "--force", bare_path}) ||
        !RunGit(repo, {"worktree", "remove", "--force", *ws}) || !RunGit(repo, {"branch", "-q", "-D", "bare/" + id})) return 1;
    (void)RemoveAll(private_dir);
  }
  printf("N = %d, %d files\n", n, files);
  printf("%-52s %10s %10s\n", "one task's checkout", "median ms", "p90 ms");
  printf("%-52s %10.1f %10.1f\n", "git worktree add -b (bare)", Median(bare), P90(bare));
  printf("%-52s %10.1f %10.1f\n", "Git::EnsureWorktree, new task", Median(ensure), P90(ensure));
  printf("%-52s %10.1f %10.1f\n", "Git::EnsureWorktree, worktree already there", Median(reuse), P90(reuse));
  printf("%-52s %10.1f %10.1f\n", "PrepareGitConfinement (each confined run)", Median(confine), P90(confine));
  printf("EnsureWorktree adds %.1f ms over a bare worktree add (median)\n", Median(ensure) - Median(bare));
  return 0;
}
