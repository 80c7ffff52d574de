// `pipeline run` on a small real C project (hello.c and a Makefile whose
// `make test` compiles and runs it) with scripted agents: only verified work
// reaches the base, verify's build outputs never reach a workspace, commits
// the base does not hold are archived rather than destroyed, and a task is
// done only when its work is on the base.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sched_fixture.h"
#include "util/text.h"

namespace pipeline::testing {
namespace {

const char kGoodC[] = "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n";
const char kMakefile[] =
    "test:\n"
    "\tcc -o hello hello.c\n"
    "\t./hello\n";

// confined = false for agents that note what they saw outside their
// workspace (confinement forbids that; it has its own tests).
std::string Config(const std::string& agent_script, const std::string& scheduler_extra = "", bool confined = true) {
  return "[fund]\ndefault_budget_cents = 100000\n"
         "[scheduler]\nbackoff_base_s = 0\nreserve_cents = 10\nintegrate_retry_s = 1\n" +
         scheduler_extra + "\n[agent]\nprofile = \"t\"\n" + ProfileToml("t", {"sh", agent_script}) +
         "[verify]\ncommand = [\"make\", \"test\"]\n" + (confined ? "" : "[sandbox]\nenabled = false\n");
}

class GitSafeTest : public ::testing::Test {
 protected:
  GitSafeTest() : repo_("") {}

  void SetUp() override {
    WriteTextFile(repo_.dir() + "/hello.c", kGoodC);
    WriteTextFile(repo_.dir() + "/Makefile", kMakefile);
    Git({"add", "hello.c", "Makefile"});
    Git({"commit", "-q", "-m", "a small C project"});
    base_before_ = Git({"rev-parse", "main"});
  }

  std::string Git(std::vector<std::string> args) {
    args.insert(args.begin(), {"git", "-C", repo_.dir()});
    auto r = RunArgv(args);
    EXPECT_TRUE(r.ok()) << Join(args) << ": " << r.err;
    return Trim(r.out);
  }
  static std::string Join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& a : v) s += (s.empty() ? "" : " ") + a;
    return s;
  }

  // An agent script (run by sh in the task's workspace) written beside the repository.
  std::string Agent(const std::string& name, const std::string& body) {
    std::string path = scripts_.path() + "/" + name;
    WriteTextFile(path, "set -e\n" + body);
    return path;
  }
  void UseAgent(const std::string& script, const std::string& scheduler_extra = "", bool confined = true) {
    WriteTextFile(repo_.paths().config(), Config(script, scheduler_extra, confined));
  }

  // Runs `make test` on every commit from base_before_ to main, each in a
  // fresh checkout; returns the commits that failed it.
  std::vector<std::string> CommitsFailingTheCheck() {
    std::vector<std::string> failing;
    std::string list = Git({"rev-list", "--reverse", base_before_ + "..main"});
    for (const auto& c : Split(list, '\n')) {
      if (c.empty()) continue;
      std::string dir = scripts_.path() + "/check-" + c;
      Git({"worktree", "add", "-q", "--detach", dir, c});
      auto r = RunArgv({"make", "test"}, dir);
      if (!r.ok()) failing.push_back(c + " " + Git({"log", "-1", "--format=%s", c}));
      Git({"worktree", "remove", "--force", dir});
    }
    return failing;
  }

  CommandResult Pipeline(const std::vector<std::string>& args) { return RunPipeline(args, repo_.dir()); }

  SchedRepo repo_;
  TempDir scripts_;
  std::string base_before_;
};

TEST_F(GitSafeTest, RejectedFirstAttemptNeverReachesTheBaseAndVerifyLeavesNoArtefacts) {
  // The first attempt builds but fails its test (so the check leaves a
  // binary behind wherever it runs); the second fixes it. Each attempt
  // notes which files its workspace held when it began, and commits with
  // `git add -A`, which would take any build output along.
  std::string seen = scripts_.path() + "/seen";
  std::string agent = Agent("two_attempts.sh",
                            "ls -A > \"" + seen + "-$(git rev-list --count HEAD)\"\n"
                            "if git log --format=%s | grep -q 'broken attempt'; then\n"
                            "  printf '#include <stdio.h>\\nint main(void) { puts(\"hello again\"); return 0; }\\n' > hello.c\n"
                            "  git add -A && git commit -q -m 'fix the build'\n"
                            "else\n"
                            "  printf 'int main(void) { return 1; }\\n' > hello.c\n"
                            "  git add -A && git commit -q -m 'broken attempt'\n"
                            "fi\n");
  UseAgent(agent, "", /*confined=*/false);
  std::string id = repo_.Task("greet again", std::string("app"));
  auto r = repo_.Run({"--until-idle"}, 180000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  ASSERT_EQ(repo_.Status(id), "done") << r.err;
  EXPECT_EQ(repo_.Int("SELECT patchset FROM tasks WHERE id = '" + id + "'"), 1);  // one rejection
  EXPECT_EQ(repo_.Int("SELECT COUNT(*) FROM runs WHERE phase = 'verify' AND task_id = '" + id + "'"), 2);

  // Every commit pipeline added to main passes the check; the broken one is not among them.
  EXPECT_EQ(CommitsFailingTheCheck(), std::vector<std::string>{});
  EXPECT_EQ(Git({"rev-list", "--count", base_before_ + "..main"}), "1");
  EXPECT_EQ(Git({"log", "--format=%s", base_before_ + "..main"}), id + ": greet again");
  EXPECT_EQ(Git({"log", "-1", "--format=%(trailers:key=Task-Id,valueonly)", "main"}), id);
  EXPECT_EQ(Git({"log", "--format=%s", "--grep=broken attempt", "main"}), "");
  EXPECT_EQ(Git({"show", "main:hello.c"}), "#include <stdio.h>\nint main(void) { puts(\"hello again\"); return 0; }");

  // The second attempt began in a workspace without verify's binary, and
  // no commit pipeline made holds one.
  ASSERT_TRUE(std::filesystem::exists(seen + "-3")) << "the second attempt did not run";
  std::string second = ReadTextFile(seen + "-3");
  EXPECT_NE(second.find("hello.c"), std::string::npos) << second;
  EXPECT_EQ(("\n" + second).find("\nhello\n"), std::string::npos) << second;
  EXPECT_EQ(Git({"ls-tree", "-r", "--name-only", "main"}), "Makefile\nREADME.md\nhello.c");
}

TEST_F(GitSafeTest, ATaskClosedByHandKeepsItsCommitsUntilGc) {
  // Two commits, then a failure: with one retry allowed the task goes to needs-help.
  std::string agent = Agent("commit_twice_then_fail.sh",
                            "echo one > one.txt && git add one.txt && git commit -q -m 'first half'\n"
                            "echo two > two.txt && git add two.txt && git commit -q -m 'second half'\n"
                            "exit 1\n");
  UseAgent(agent, "max_retries = 1\n");
  std::string id = repo_.Task("half done", std::string("app"));
  auto r = repo_.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  ASSERT_EQ(repo_.Status(id), "needs-help") << r.err;
  std::string tip = Git({"rev-parse", "refs/heads/pipeline/" + id});

  // A person closes it through the task protocol, then runs the pipeline.
  auto closed = Pipeline({"task", "update", id, "done"});
  ASSERT_EQ(closed.exit.exit_code, 0) << closed.err;
  r = repo_.Run({"--once"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  std::string ref = "refs/pipeline/archive/" + id + "/1";
  EXPECT_NE(r.err.find("removed the worktree of a done task; kept its unintegrated commits as " + ref),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(repo_.paths().worktrees_dir() + "/" + id));
  EXPECT_EQ(Git({"rev-parse", ref}), tip);
  EXPECT_EQ(Git({"log", "--format=%s", "main.." + ref}), "second half\nfirst half");

  auto listed = Pipeline({"archive", "list"});
  ASSERT_EQ(listed.exit.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(ref + " " + tip.substr(0, 12) + " (2 commits not on main) second half"),
            std::string::npos)
      << listed.out;
  auto json = Pipeline({"archive", "list", "--json"});
  ASSERT_EQ(json.exit.exit_code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  ASSERT_EQ(j.size(), 1u) << json.out;
  EXPECT_EQ(j[0]["task"], id);
  EXPECT_EQ(j[0]["commit"], tip);
  EXPECT_EQ(j[0]["commits_not_on_base"], 2);

  auto dry = Pipeline({"gc", "--dry-run"});
  ASSERT_EQ(dry.exit.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("would remove " + ref), std::string::npos) << dry.out;
  EXPECT_EQ(Git({"rev-parse", ref}), tip);  // still there

  auto other = Pipeline({"gc", "--task", "someone-else"});
  ASSERT_EQ(other.exit.exit_code, 0) << other.err;
  EXPECT_EQ(Git({"rev-parse", ref}), tip);  // another task's archive is untouched

  auto gc = Pipeline({"gc"});
  ASSERT_EQ(gc.exit.exit_code, 0) << gc.err;
  EXPECT_NE(gc.out.find("removed " + ref), std::string::npos) << gc.out;
  EXPECT_FALSE(RunArgv({"git", "-C", repo_.dir(), "rev-parse", "--verify", "--quiet", ref}).ok());
  EXPECT_EQ(Trim(Pipeline({"archive", "list"}).out), "");
}

TEST_F(GitSafeTest, ATaskClosedByAnotherClientAfterAKilledRunKeepsItsCommits) {
  // The run is killed mid-way with a commit on the branch, and another
  // client of the store marks the task done while no scheduler runs.
  std::string agent = Agent("commit_then_hang.sh",
                            "echo wip > wip.txt && git add wip.txt && git commit -q -m 'work in progress'\n"
                            "sleep 600\n");
  UseAgent(agent, "max_retries = 1\n", /*confined=*/false);  // its commit is watched while it runs
  std::string id = repo_.Task("interrupted", std::string("app"));
  auto r = repo_.Run({"--once"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  // Wait (bounded) for the commit, then kill the run through the agent protocol.
  std::string tip;
  for (int i = 0; i < 200 && tip.empty(); ++i) {
    auto rev = RunArgv({"git", "-C", repo_.dir(), "rev-parse", "--verify", "--quiet", "refs/heads/pipeline/" + id});
    if (rev.ok() && Trim(rev.out) != base_before_) tip = Trim(rev.out);
    else usleep(100000);
  }
  ASSERT_FALSE(tip.empty()) << "the agent never committed";
  std::string run_id = repo_.Text("SELECT run_id FROM runs WHERE task_id = '" + id + "' AND phase = 'dev'");
  auto killed = Pipeline({"agent", "kill", run_id});
  EXPECT_EQ(killed.exit.exit_code, 0) << killed.err;
  {
    auto db = repo_.Open();
    TaskStore store(*db, SystemClock());
    ASSERT_TRUE(store.SetStatus(id, TaskStatus::kDone).ok());
  }
  r = repo_.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo_.Status(id), "done");
  EXPECT_FALSE(std::filesystem::exists(repo_.paths().worktrees_dir() + "/" + id)) << r.err;
  EXPECT_EQ(Git({"rev-parse", "refs/pipeline/archive/" + id + "/1"}), tip) << r.err;
  EXPECT_EQ(Git({"rev-parse", "main"}), base_before_);  // nothing reached the base
}

TEST_F(GitSafeTest, CommitsOnABranchOfTheAgentsOwnAreLanded) {
  std::string agent = Agent("own_branch.sh",
                            "git checkout -q -b feature/x\n"
                            "printf '#include <stdio.h>\\nint main(void) { puts(\"from a side branch\"); return 0; }\\n' > hello.c\n"
                            "git commit -q -am 'greet from a side branch'\n");
  UseAgent(agent);
  std::string id = repo_.Task("side branch", std::string("app"));
  auto r = repo_.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  ASSERT_EQ(repo_.Status(id), "done") << r.err;
  // Confined, the agent's own branch lives in the run's private refs: the
  // harvest finds its commit as the workspace's detached HEAD.
  EXPECT_NE(r.err.find("took the commits on"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("onto pipeline/" + id), std::string::npos) << r.err;
  // Done means on the base: main moved and holds the work.
  EXPECT_NE(Git({"rev-parse", "main"}), base_before_);
  EXPECT_NE(Git({"show", "main:hello.c"}).find("from a side branch"), std::string::npos);
  EXPECT_EQ(CommitsFailingTheCheck(), std::vector<std::string>{});
  std::string done = repo_.Text("SELECT text FROM comments WHERE task_id = '" + id +
                                "' AND text LIKE 'Pipeline: integrated into main at %'");
  EXPECT_EQ(done, "Pipeline: integrated into main at " + Git({"rev-parse", "main"}));
}

TEST_F(GitSafeTest, CommitsThatDoNotContinueTheTaskBranchLeaveTheTaskNotDone) {
  std::string agent = Agent("orphan_branch.sh",
                            "git checkout -q --orphan lonely\n"
                            "git commit -q -m 'unrelated history'\n");
  UseAgent(agent, "max_retries = 1\n");
  std::string id = repo_.Task("lost work", std::string("app"));
  auto r = repo_.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo_.Status(id), "needs-help") << r.err;
  std::string reason = "not on the task branch pipeline/" + id;
  EXPECT_EQ(repo_.Int("SELECT COUNT(*) FROM comments WHERE task_id = '" + id + "' AND text LIKE '%" + reason + "%'"),
            1)
      << r.err << repo_.Text("SELECT group_concat(text, '\n') FROM comments WHERE task_id = '" + id + "'");
  EXPECT_EQ(repo_.Int("SELECT COUNT(*) FROM runs WHERE phase IN ('verify', 'integrate') AND task_id = '" + id + "'"),
            0);
  EXPECT_EQ(Git({"rev-parse", "main"}), base_before_);
  // The stray commit is kept, and the workspace is back on the task branch.
  EXPECT_EQ(Git({"log", "-1", "--format=%s", "refs/pipeline/archive/" + id + "/1"}), "unrelated history");
  EXPECT_EQ(Git({"-C", repo_.paths().worktrees_dir() + "/" + id, "symbolic-ref", "HEAD"}),
            "refs/heads/pipeline/" + id);
}

}  // namespace
}  // namespace pipeline::testing
