// The git layer against real temporary repositories.
#include "git/git.h"

#include <gtest/gtest.h>

#include <future>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include "git/paths.h"
#include "testutil/testutil.h"
#include "util/files.h"

namespace pipeline {
namespace {

using testing::ReadTextFile;
using testing::RunArgv;
using testing::TempDir;
using testing::WriteTextFile;

std::string Canon(const std::string& p) { return std::filesystem::weakly_canonical(p).string(); }

class GitTest : public ::testing::Test {
 protected:
  GitTest() : repo_(tmp_ / "repo"), root_{repo_ + "/.pipeline"}, git_(RealProcessRunner(), repo_) {}

  void SetUp() override {
    ASSERT_TRUE(MakeDirs(repo_).ok());
    testing::InitGitRepo(repo_);
  }

  std::string G(const std::string& dir, std::vector<std::string> args) {
    args.insert(args.begin(), {"git", "-C", dir});
    auto r = RunArgv(args);
    EXPECT_TRUE(r.ok()) << "git " << args[3] << ": " << r.err;
    while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
    return r.out;
  }

  // Writes file in dir, commits it, returns the new HEAD.
  std::string Commit(const std::string& dir, const std::string& file, const std::string& text) {
    WriteTextFile(dir + "/" + file, text);
    G(dir, {"add", file});
    G(dir, {"commit", "-q", "-m", "change " + file});
    return G(dir, {"rev-parse", "HEAD"});
  }

  std::string Sha(const std::string& rev) {
    auto r = git_.RevParse(rev);
    EXPECT_TRUE(r.ok()) << r.message();
    return r.ok() ? *r : "";
  }

  TempDir tmp_;
  std::string repo_;
  RootPaths root_;
  Git git_;
};

TEST_F(GitTest, RevParseHeadAndCurrentBranch) {
  std::string main = Sha("main");
  EXPECT_EQ(main.size(), 40u);
  auto head = git_.Head(repo_);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(*head, main);
  EXPECT_EQ(git_.RevParse("no-such-branch").kind(), ErrorKind::kNotFound);
  EXPECT_EQ(git_.RevParse("--all").kind(), ErrorKind::kNotFound);  // data, not an option
  auto cur = git_.CurrentBranch();
  ASSERT_TRUE(cur.ok());
  EXPECT_EQ(*cur, "main");
  G(repo_, {"checkout", "-q", "--detach"});
  EXPECT_EQ(git_.CurrentBranch().kind(), ErrorKind::kNotFound);
}

TEST_F(GitTest, EnsureWorktreeCreatesAndReuses) {
  auto wt = git_.EnsureWorktree(root_, "T-1", "main");
  ASSERT_TRUE(wt.ok()) << wt.message();
  EXPECT_EQ(*wt, root_.worktrees_dir() + "/T-1");
  EXPECT_TRUE(PathExists(*wt + "/README.md"));
  EXPECT_EQ(*git_.Head(*wt), Sha("main"));
  auto holder = git_.WorktreeWithBranchCheckedOut("pipeline/T-1");
  ASSERT_TRUE(holder.ok());
  ASSERT_TRUE(holder->has_value());
  EXPECT_EQ(Canon(**holder), Canon(*wt));

  // A second patchset finds the first one's work.
  std::string c1 = Commit(*wt, "work.txt", "one\n");
  WriteTextFile(*wt + "/scratch.txt", "uncommitted\n");
  auto again = git_.EnsureWorktree(root_, "T-1", "main");
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(*again, *wt);
  EXPECT_EQ(*git_.Head(*wt), c1);
  EXPECT_TRUE(PathExists(*wt + "/scratch.txt"));
}

TEST_F(GitTest, EnsureWorktreeRepairsDeletedDirectory) {
  auto wt = git_.EnsureWorktree(root_, "T-2", "main");
  ASSERT_TRUE(wt.ok()) << wt.message();
  std::string c1 = Commit(*wt, "work.txt", "one\n");
  ASSERT_TRUE(RemoveAll(*wt).ok());  // deleted by hand; git still has it registered
  auto again = git_.EnsureWorktree(root_, "T-2", "main");
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(*git_.Head(*again), c1);  // the existing branch was checked out again
  EXPECT_EQ(ReadTextFile(*again + "/work.txt"), "one\n");
}

// A run left the workspace elsewhere: at the task branch's tip it is put
// back on the branch; at any other commit it is refused.
TEST_F(GitTest, EnsureWorktreePutsAHeadAtTheTaskBranchsTipBackOnTheBranch) {
  auto wt = git_.EnsureWorktree(root_, "T-5", "main");
  ASSERT_TRUE(wt.ok()) << wt.message();
  std::string c1 = Commit(*wt, "work.txt", "one\n");
  G(*wt, {"checkout", "-q", "--detach"});
  auto again = git_.EnsureWorktree(root_, "T-5", "main");
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(G(*again, {"symbolic-ref", "HEAD"}), "refs/heads/pipeline/T-5");
  EXPECT_EQ(*git_.Head(*again), c1);
  G(*wt, {"checkout", "-q", "-b", "feature/x"});
  again = git_.EnsureWorktree(root_, "T-5", "main");
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(G(*again, {"symbolic-ref", "HEAD"}), "refs/heads/pipeline/T-5");

  G(*wt, {"checkout", "-q", "--detach"});
  Commit(*wt, "stray.txt", "stray\n");
  auto refused = git_.EnsureWorktree(root_, "T-5", "main");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.kind(), ErrorKind::kConflict);
  EXPECT_NE(refused.message().find("a detached HEAD"), std::string::npos) << refused.message();
  EXPECT_EQ(Sha("pipeline/T-5"), c1);
}

TEST_F(GitTest, EnsureWorktreeReusesBranchWithoutWorktree) {
  auto wt = git_.EnsureWorktree(root_, "T-3", "main");
  ASSERT_TRUE(wt.ok());
  std::string c1 = Commit(*wt, "work.txt", "one\n");
  ASSERT_TRUE(git_.RemoveWorktree(root_, "T-3", /*delete_branch=*/false).ok());
  EXPECT_FALSE(PathExists(*wt));
  Commit(repo_, "other.txt", "main moved\n");  // must not become the task's base
  auto again = git_.EnsureWorktree(root_, "T-3", "main");
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(*git_.Head(*again), c1);
}

TEST_F(GitTest, EnsureWorktreeReplacesUnknownDirectory) {
  std::string path = root_.worktrees_dir() + "/T-4";
  ASSERT_TRUE(MakeDirs(path).ok());
  WriteTextFile(path + "/half-written", "x");
  auto wt = git_.EnsureWorktree(root_, "T-4", "main");
  ASSERT_TRUE(wt.ok()) << wt.message();
  EXPECT_FALSE(PathExists(path + "/half-written"));
  EXPECT_EQ(*git_.Head(*wt), Sha("main"));
}

TEST_F(GitTest, EnsureWorktreeRejectsBadInput) {
  for (const char* id : {"../x", "a/b", "$(rm -rf)", "a\nb", "x.lock", ""}) {
    auto wt = git_.EnsureWorktree(root_, id, "main");
    ASSERT_FALSE(wt.ok()) << id;
    EXPECT_EQ(wt.kind(), ErrorKind::kInvalidArgument);
  }
  EXPECT_FALSE(PathExists(root_.worktrees_dir()));
  auto nobase = git_.EnsureWorktree(root_, "T-5", "no-such-base");
  ASSERT_FALSE(nobase.ok());
  EXPECT_EQ(nobase.kind(), ErrorKind::kNotFound);
  EXPECT_EQ(git_.RevParse("refs/heads/pipeline/T-5").kind(), ErrorKind::kNotFound);
}

TEST_F(GitTest, RemoveWorktreeIsIdempotentAndListsFollow) {
  ASSERT_TRUE(git_.EnsureWorktree(root_, "A", "main").ok());
  auto b = git_.EnsureWorktree(root_, "B", "main");
  ASSERT_TRUE(b.ok());
  WriteTextFile(*b + "/README.md", "dirty\n");  // --force removes a dirty worktree
  auto ids = git_.ListTaskWorktrees(root_);
  ASSERT_TRUE(ids.ok()) << ids.message();
  EXPECT_EQ(*ids, (std::vector<std::string>{"A", "B"}));

  ASSERT_TRUE(git_.RemoveWorktree(root_, "B", /*delete_branch=*/true).ok());
  EXPECT_FALSE(PathExists(*b));
  EXPECT_EQ(git_.RevParse("refs/heads/pipeline/B").kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(git_.RemoveWorktree(root_, "B", true).ok());
  EXPECT_TRUE(git_.RemoveWorktree(root_, "never-existed", true).ok());
  EXPECT_EQ(git_.RemoveWorktree(root_, "../A", true).kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(*git_.ListTaskWorktrees(root_), (std::vector<std::string>{"A"}));
  // The branch of A survives a remove that keeps it.
  ASSERT_TRUE(git_.RemoveWorktree(root_, "A", false).ok());
  EXPECT_TRUE(git_.RevParse("refs/heads/pipeline/A").ok());
  EXPECT_TRUE(git_.ListTaskWorktrees(root_)->empty());
}

TEST_F(GitTest, CommitsAhead) {
  auto wt = git_.EnsureWorktree(root_, "T-6", "main");
  ASSERT_TRUE(wt.ok());
  EXPECT_EQ(*git_.CommitsAhead("pipeline/T-6", "main"), 0);
  Commit(*wt, "a.txt", "a\n");
  Commit(*wt, "b.txt", "b\n");
  EXPECT_EQ(*git_.CommitsAhead("pipeline/T-6", "main"), 2);
  EXPECT_EQ(*git_.CommitsAhead("main", "pipeline/T-6"), 0);
  EXPECT_FALSE(git_.CommitsAhead("pipeline/nope", "main").ok());
}

TEST_F(GitTest, MergeCleanMakesMergeAndSquashCommits) {
  auto wt = git_.EnsureWorktree(root_, "T-7", "main");
  ASSERT_TRUE(wt.ok());
  std::string task = Commit(*wt, "feature.txt", "feature\n");
  std::string base = Commit(repo_, "main.txt", "main\n");

  auto m = git_.MergeTree(base, task);
  ASSERT_TRUE(m.ok()) << m.message();
  EXPECT_TRUE(m->clean);
  EXPECT_EQ(m->tree.size(), 40u);
  EXPECT_TRUE(m->conflicted_files.empty());

  auto merge = git_.SquashOrMergeCommit("merge", "main", "pipeline/T-7", "Merge T-7");
  ASSERT_TRUE(merge.ok()) << merge.message();
  // The side merged is the patchset rebuilt as one commit on base, not the branch.
  std::string side = G(repo_, {"rev-parse", *merge + "^2"});
  EXPECT_NE(side, task);
  EXPECT_EQ(G(repo_, {"rev-list", "--parents", "-n1", *merge}), *merge + " " + base + " " + side);
  EXPECT_EQ(G(repo_, {"rev-list", "--parents", "-n1", side}), side + " " + base);
  EXPECT_EQ(G(repo_, {"rev-parse", side + "^{tree}"}), m->tree);
  EXPECT_EQ(G(repo_, {"show", *merge + ":feature.txt"}), "feature");
  EXPECT_EQ(G(repo_, {"show", *merge + ":main.txt"}), "main");
  EXPECT_EQ(G(repo_, {"log", "-1", "--format=%s", *merge}), "Merge T-7");

  auto squash = git_.SquashOrMergeCommit("squash", "main", "pipeline/T-7", "T-7: add feature");
  ASSERT_TRUE(squash.ok()) << squash.message();
  EXPECT_EQ(G(repo_, {"rev-list", "--parents", "-n1", *squash}), *squash + " " + base);
  EXPECT_EQ(G(repo_, {"rev-parse", *squash + "^{tree}"}), m->tree);

  EXPECT_EQ(Sha("main"), base);  // nothing moved a ref
  EXPECT_EQ(git_.SquashOrMergeCommit("rebase", "main", "pipeline/T-7", "x").kind(),
            ErrorKind::kInvalidArgument);
}

TEST_F(GitTest, MergeConflictNamesFiles) {
  auto wt = git_.EnsureWorktree(root_, "T-8", "main");
  ASSERT_TRUE(wt.ok());
  std::string task = Commit(*wt, "README.md", "task version\n");
  Commit(*wt, "clean.txt", "no conflict here\n");
  std::string base = Commit(repo_, "README.md", "main version\n");

  auto m = git_.MergeTree(base, task);
  ASSERT_TRUE(m.ok()) << m.message();
  EXPECT_FALSE(m->clean);
  EXPECT_EQ(m->conflicted_files, (std::vector<std::string>{"README.md"}));
  EXPECT_NE(m->messages.find("CONFLICT"), std::string::npos) << m->messages;

  auto c = git_.SquashOrMergeCommit("merge", "main", "pipeline/T-8", "m");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.kind(), ErrorKind::kConflict);
  EXPECT_NE(c.message().find("README.md"), std::string::npos) << c.message();
  EXPECT_EQ(git_.MergeTree("main", "no-such").kind(), ErrorKind::kNotFound);
}

TEST_F(GitTest, CompareAndSwapRef) {
  std::string old = Sha("main");
  std::string next = Commit(repo_, "x.txt", "x\n");
  G(repo_, {"reset", "-q", "--hard", old});  // main back at old, next still an object

  ASSERT_TRUE(git_.CompareAndSwapRef("refs/heads/main", next, old).ok());
  EXPECT_EQ(Sha("main"), next);
  // Someone else already moved it: the stale swap is refused and changes nothing.
  Status lost = git_.CompareAndSwapRef("refs/heads/main", old, old);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.kind(), ErrorKind::kConflict);
  EXPECT_EQ(Sha("main"), next);

  // Empty old: create only.
  EXPECT_TRUE(git_.CompareAndSwapRef("refs/heads/new-branch", old, "").ok());
  EXPECT_EQ(git_.CompareAndSwapRef("refs/heads/new-branch", next, "").kind(), ErrorKind::kConflict);
  EXPECT_EQ(Sha("refs/heads/new-branch"), old);

  EXPECT_EQ(git_.CompareAndSwapRef("main", next, old).kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(git_.CompareAndSwapRef("refs/heads/main", "HEAD", next).kind(), ErrorKind::kInvalidArgument);
}

TEST_F(GitTest, CommitTreeFallsBackToPipelineIdentity) {
  TempDir home;
  std::string bare = tmp_ / "noident";
  ASSERT_TRUE(MakeDirs(bare).ok());
  // A repository with no identity anywhere: no user config, no global config.
  const char* old_home = getenv("HOME");
  std::string saved_home = old_home ? old_home : "";
  setenv("HOME", home.path().c_str(), 1);
  setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
  G(bare, {"init", "-q", "-b", "main"});
  Git g(RealProcessRunner(), bare);
  std::string empty_tree = G(bare, {"hash-object", "-t", "tree", "-w", "--stdin"});
  auto c = g.CommitTree(empty_tree, {}, "first");
  std::string author = c.ok() ? G(bare, {"log", "-1", "--format=%an <%ae>|%cn <%ce>", *c}) : "";
  if (old_home) setenv("HOME", saved_home.c_str(), 1); else unsetenv("HOME");
  unsetenv("GIT_CONFIG_NOSYSTEM");
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_EQ(author, "pipeline <pipeline@localhost>|pipeline <pipeline@localhost>");

  // With an identity configured, that one is used.
  auto tree = git_.RevParse("main^{tree}");
  ASSERT_TRUE(tree.ok());
  auto c2 = git_.CommitTree(*tree, {Sha("main")}, "second");
  ASSERT_TRUE(c2.ok()) << c2.message();
  EXPECT_EQ(G(repo_, {"log", "-1", "--format=%an <%ae>", *c2}), "Test <test@example.com>");
}

TEST_F(GitTest, BranchCheckedOutAndCleanliness) {
  auto at = git_.WorktreeWithBranchCheckedOut("main");
  ASSERT_TRUE(at.ok());
  ASSERT_TRUE(at->has_value());
  EXPECT_EQ(Canon(**at), Canon(repo_));
  EXPECT_EQ(Canon(**git_.WorktreeWithBranchCheckedOut("refs/heads/main")), Canon(repo_));
  EXPECT_FALSE(git_.WorktreeWithBranchCheckedOut("elsewhere")->has_value());

  EXPECT_TRUE(*git_.IsClean(repo_));
  WriteTextFile(repo_ + "/untracked.txt", "u\n");
  EXPECT_TRUE(*git_.IsClean(repo_));  // untracked files do not count
  WriteTextFile(repo_ + "/README.md", "edited\n");
  EXPECT_FALSE(*git_.IsClean(repo_));
  G(repo_, {"add", "README.md"});
  EXPECT_FALSE(*git_.IsClean(repo_));
}

TEST_F(GitTest, FastForwardCheckout) {
  auto wt = git_.EnsureWorktree(root_, "T-9", "main");
  ASSERT_TRUE(wt.ok());
  Commit(*wt, "feature.txt", "feature\n");
  std::string old = Sha("main");
  auto next = git_.SquashOrMergeCommit("squash", "main", "pipeline/T-9", "T-9");
  ASSERT_TRUE(next.ok()) << next.message();

  // Wrong expectation: refused, nothing touched.
  EXPECT_EQ(git_.FastForwardCheckout(repo_, "HEAD", *next).kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(git_.FastForwardCheckout(repo_, Sha("pipeline/T-9"), *next).kind(), ErrorKind::kConflict);
  EXPECT_EQ(Sha("main"), old);

  ASSERT_TRUE(git_.FastForwardCheckout(repo_, old, *next).ok());
  EXPECT_EQ(Sha("main"), *next);
  EXPECT_EQ(ReadTextFile(repo_ + "/feature.txt"), "feature\n");
  EXPECT_TRUE(*git_.IsClean(repo_));
  EXPECT_TRUE(git_.FastForwardCheckout(repo_, old, *next).ok());  // repeating is harmless
}

TEST_F(GitTest, FastForwardCheckoutRefusesLocalChangesInTouchedFiles) {
  auto wt = git_.EnsureWorktree(root_, "T-11", "main");
  ASSERT_TRUE(wt.ok());
  Commit(*wt, "README.md", "task edit\n");
  std::string old = Sha("main");
  auto next = git_.SquashOrMergeCommit("squash", "main", "pipeline/T-11", "T-11");
  ASSERT_TRUE(next.ok());
  WriteTextFile(repo_ + "/README.md", "a person's unsaved edit\n");

  Status st = git_.FastForwardCheckout(repo_, old, *next);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.kind(), ErrorKind::kRefused) << st.message();
  EXPECT_EQ(Sha("main"), old);
  EXPECT_EQ(ReadTextFile(repo_ + "/README.md"), "a person's unsaved edit\n");
}

// Every git call goes through the seam with -C, a deadline, LC_ALL=C, no
// prompt, and without inherited GIT_DIR pointing elsewhere.
class RecordingRunner : public ProcessRunner {
 public:
  Result<CommandResult> Run(const Command& cmd) override {
    seen.push_back(cmd);
    return RealProcessRunner().Run(cmd);
  }
  std::vector<Command> seen;
};

TEST_F(GitTest, EveryCallUsesDashCEnvAndTimeout) {
  RecordingRunner rec;
  Git g(rec, repo_);
  setenv("GIT_DIR", "/nonexistent/.git", 1);
  auto wt = g.EnsureWorktree(root_, "T-12", "main");
  auto head = g.RevParse("main");
  unsetenv("GIT_DIR");
  ASSERT_TRUE(wt.ok()) << wt.message();
  ASSERT_TRUE(head.ok()) << head.message();
  ASSERT_TRUE(g.MergeTree("main", "pipeline/T-12").ok());
  ASSERT_GE(rec.seen.size(), 4u);
  for (const auto& c : rec.seen) {
    ASSERT_GE(c.argv.size(), 4u);
    EXPECT_EQ(c.argv[0], "git");
    EXPECT_EQ(c.argv[1], "-C");
    EXPECT_GT(c.timeout_ms, 0);
    EXPECT_EQ(c.env_set.at("LC_ALL"), "C");
    EXPECT_EQ(c.env_set.at("GIT_TERMINAL_PROMPT"), "0");
    EXPECT_NE(std::find(c.env_unset.begin(), c.env_unset.end(), "GIT_DIR"), c.env_unset.end());
  }
}

TEST_F(GitTest, FastForwardCheckoutRepairsRefMovedWithoutFiles) {
  auto wt = git_.EnsureWorktree(root_, "T-10", "main");
  ASSERT_TRUE(wt.ok());
  Commit(*wt, "feature.txt", "feature\n");
  std::string old = Sha("main");
  auto next = git_.SquashOrMergeCommit("squash", "main", "pipeline/T-10", "T-10");
  ASSERT_TRUE(next.ok());
  WriteTextFile(repo_ + "/notes.txt", "a person's untracked notes\n");

  // The crash window: the ref of the checked-out branch moved, the files did not.
  ASSERT_TRUE(git_.CompareAndSwapRef("refs/heads/main", *next, old).ok());
  EXPECT_FALSE(*git_.IsClean(repo_));
  EXPECT_FALSE(PathExists(repo_ + "/feature.txt"));

  ASSERT_TRUE(git_.FastForwardCheckout(repo_, old, *next).ok());
  EXPECT_TRUE(*git_.IsClean(repo_));
  EXPECT_EQ(ReadTextFile(repo_ + "/feature.txt"), "feature\n");
  EXPECT_EQ(ReadTextFile(repo_ + "/notes.txt"), "a person's untracked notes\n");
}

TEST_F(GitTest, ExportTreeAddsThenReuses) {
  std::string first = Sha("main");
  std::string second = Commit(repo_, "later.txt", "later\n");
  std::string dir = tmp_ / "check";

  auto e1 = git_.ExportTree(first, dir);
  ASSERT_TRUE(e1.ok()) << e1.message();
  EXPECT_EQ(*e1, first);
  EXPECT_EQ(*git_.Head(dir), first);
  EXPECT_FALSE(PathExists(dir + "/later.txt"));

  WriteTextFile(dir + "/build-output.o", "junk");
  WriteTextFile(dir + "/README.md", "modified by a check\n");
  auto e2 = git_.ExportTree("main", dir);
  ASSERT_TRUE(e2.ok()) << e2.message();
  EXPECT_EQ(*e2, second);
  EXPECT_EQ(*git_.Head(dir), second);
  EXPECT_TRUE(PathExists(dir + "/later.txt"));
  EXPECT_FALSE(PathExists(dir + "/build-output.o"));
  EXPECT_TRUE(*git_.IsClean(dir));

  std::string plain = tmp_ / "plain";
  ASSERT_TRUE(MakeDirs(plain).ok());
  EXPECT_EQ(git_.ExportTree(first, plain).kind(), ErrorKind::kRefused);
  EXPECT_EQ(git_.ExportTree("no-such", tmp_ / "x").kind(), ErrorKind::kNotFound);
}

TEST_F(GitTest, ExportTreeFromManyThreadsAtOnce) {
  // The merge queue checks several heads at once, each in a scratch
  // worktree of its own, made on first use: git must never see two of them
  // half made (`worktree list` fails on a half-written record).
  std::string head = Sha("main");
  for (int round = 0; round < 2; ++round) {  // made, then reused
    std::vector<std::future<Result<std::string>>> running;
    for (int i = 0; i < 8; ++i) {
      std::string dir = tmp_ / ("slot-" + std::to_string(i));
      running.push_back(std::async(std::launch::async, [this, head, dir] { return git_.ExportTree(head, dir); }));
    }
    for (auto& r : running) {
      auto got = r.get();
      ASSERT_TRUE(got.ok()) << got.message();
      EXPECT_EQ(*got, head);
    }
  }
  for (int i = 0; i < 8; ++i) EXPECT_EQ(*git_.Head(tmp_ / ("slot-" + std::to_string(i))), head) << i;
}

TEST_F(GitTest, ExportTreeDoesNotReuseAnotherRepositorysWorktree) {
  // A directory that is a worktree of some other repository is not ours to
  // check out into, however much it looks like one.
  std::string other = tmp_ / "other";
  ASSERT_TRUE(MakeDirs(other).ok());
  ASSERT_TRUE(RunArgv({"git", "-C", other, "init", "-q", "-b", "main"}).ok());
  Commit(other, "o.txt", "o\n");
  std::string dir = tmp_ / "foreign";
  ASSERT_TRUE(RunArgv({"git", "-C", other, "worktree", "add", "-q", "--detach", dir}).ok());
  EXPECT_EQ(git_.ExportTree(Sha("main"), dir).kind(), ErrorKind::kRefused);
}

TEST_F(GitTest, BaseHoldsAncestorsAndSquashedWorkOnly) {
  auto wt = git_.EnsureWorktree(root_, "T-20", "main");
  ASSERT_TRUE(wt.ok());
  EXPECT_TRUE(*git_.BaseHolds("main", "pipeline/T-20"));  // no commit of its own
  std::string tip = Commit(*wt, "a.txt", "a\n");
  auto held = git_.BaseHolds("main", tip);
  ASSERT_TRUE(held.ok()) << held.message();
  EXPECT_FALSE(*held);
  auto squash = git_.SquashOrMergeCommit("squash", "main", "pipeline/T-20", "T-20");
  ASSERT_TRUE(squash.ok());
  ASSERT_TRUE(git_.CompareAndSwapRef("refs/heads/main", *squash, Sha("main")).ok());
  EXPECT_TRUE(*git_.BaseHolds("main", tip));  // not an ancestor, but its change is in
  EXPECT_EQ(git_.BaseHolds("no-such", tip).kind(), ErrorKind::kNotFound);
  // Unrelated history (git refuses to merge it) is not held either.
  G(*wt, {"checkout", "-q", "--orphan", "lonely"});
  std::string lonely = Commit(*wt, "c.txt", "c\n");
  auto unrelated = git_.BaseHolds("main", lonely);
  ASSERT_TRUE(unrelated.ok()) << unrelated.message();
  EXPECT_FALSE(*unrelated);
}

TEST_F(GitTest, RemoveWorktreeArchivesCommitsTheBaseLacks) {
  auto wt = git_.EnsureWorktree(root_, "T-21", "main");
  ASSERT_TRUE(wt.ok());
  Commit(*wt, "a.txt", "a\n");
  std::string tip = Commit(*wt, "b.txt", "b\n");
  auto removed = git_.RemoveWorktree(root_, "T-21", /*delete_branch=*/true, "main");
  ASSERT_TRUE(removed.ok()) << removed.message();
  EXPECT_EQ(*removed, (std::vector<std::string>{"refs/pipeline/archive/T-21/1"}));
  EXPECT_EQ(git_.RevParse("refs/heads/pipeline/T-21").kind(), ErrorKind::kNotFound);
  EXPECT_EQ(Sha("refs/pipeline/archive/T-21/1"), tip);  // both commits reachable
  auto listed = git_.ListArchive();
  ASSERT_TRUE(listed.ok()) << listed.message();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].task_id, "T-21");
  EXPECT_EQ((*listed)[0].n, 1);
  EXPECT_EQ((*listed)[0].sha, tip);
  EXPECT_EQ((*listed)[0].subject, "change b.txt");

  // The same task again, with new work: the next number; the old ref stays.
  auto wt2 = git_.EnsureWorktree(root_, "T-21", "main");
  ASSERT_TRUE(wt2.ok());
  std::string tip2 = Commit(*wt2, "c.txt", "c\n");
  auto again = git_.RemoveWorktree(root_, "T-21", true, "main");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, (std::vector<std::string>{"refs/pipeline/archive/T-21/2"}));
  EXPECT_EQ(Sha("refs/pipeline/archive/T-21/2"), tip2);
  EXPECT_EQ(git_.ListArchive("T-21")->size(), 2u);
  EXPECT_TRUE(git_.ListArchive("T-99")->empty());

  // A task whose work the base holds leaves no archive.
  auto wt3 = git_.EnsureWorktree(root_, "T-22", "main");
  ASSERT_TRUE(wt3.ok());
  Commit(*wt3, "d.txt", "d\n");
  auto squash = git_.SquashOrMergeCommit("squash", "main", "pipeline/T-22", "T-22");
  ASSERT_TRUE(git_.CompareAndSwapRef("refs/heads/main", *squash, Sha("main")).ok());
  auto held = git_.RemoveWorktree(root_, "T-22", true, "main");
  ASSERT_TRUE(held.ok());
  EXPECT_TRUE(held->empty());
  EXPECT_TRUE(git_.ListArchive("T-22")->empty());

  // Deleting: only while the ref still names the commit listed.
  EXPECT_EQ(git_.DeleteRef("refs/pipeline/archive/T-21/1", tip2).kind(), ErrorKind::kConflict);
  EXPECT_TRUE(git_.DeleteRef("refs/pipeline/archive/T-21/1", tip).ok());
  EXPECT_EQ(git_.RevParse("refs/pipeline/archive/T-21/1").kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(git_.DeleteRef("refs/pipeline/archive/T-21/1", tip).ok());  // gone already
}

TEST_F(GitTest, RemoveWorktreeArchivesADetachedHeadsCommits) {
  auto wt = git_.EnsureWorktree(root_, "T-23", "main");
  ASSERT_TRUE(wt.ok());
  G(*wt, {"checkout", "-q", "--detach"});
  std::string lost = Commit(*wt, "a.txt", "a\n");
  auto removed = git_.RemoveWorktree(root_, "T-23", /*delete_branch=*/true, "main");
  ASSERT_TRUE(removed.ok()) << removed.message();
  // The branch had nothing of its own; the detached commit is kept.
  EXPECT_EQ(*removed, (std::vector<std::string>{"refs/pipeline/archive/T-23/1"}));
  EXPECT_EQ(Sha("refs/pipeline/archive/T-23/1"), lost);
}

TEST_F(GitTest, RemoveWorktreeAlsoRemovesTheVerifyCheckout) {
  auto wt = git_.EnsureWorktree(root_, "T-24", "main");
  ASSERT_TRUE(wt.ok());
  std::string dir = *VerifyCheckoutPath(root_, "T-24");
  ASSERT_TRUE(git_.ExportTree("pipeline/T-24", dir).ok());
  WriteTextFile(dir + "/a.out", "built\n");
  ASSERT_TRUE(git_.RemoveWorktree(root_, "T-24", true, "main").ok());
  EXPECT_FALSE(PathExists(dir));
  EXPECT_TRUE(git_.ListTaskWorktrees(root_)->empty());
}

TEST_F(GitTest, TakeHeadOntoTaskBranch) {
  auto wt = git_.EnsureWorktree(root_, "T-25", "main");
  ASSERT_TRUE(wt.ok());
  std::string first = Commit(*wt, "a.txt", "a\n");
  auto nothing = git_.TakeHeadOntoTaskBranch(*wt, "T-25", "main");
  ASSERT_TRUE(nothing.ok()) << nothing.message();
  EXPECT_EQ(*nothing, "");  // HEAD on the task branch
  EXPECT_EQ(Sha("pipeline/T-25"), first);

  // The agent made a branch of its own and committed there.
  G(*wt, {"checkout", "-q", "-b", "feature/x"});
  WriteTextFile(*wt + "/notes.txt", "uncommitted\n");
  std::string second = Commit(*wt, "b.txt", "b\n");
  auto taken = git_.TakeHeadOntoTaskBranch(*wt, "T-25", "main");
  ASSERT_TRUE(taken.ok()) << taken.message();
  EXPECT_NE(taken->find("feature/x"), std::string::npos) << *taken;
  EXPECT_EQ(Sha("pipeline/T-25"), second);
  EXPECT_EQ(G(*wt, {"symbolic-ref", "HEAD"}), "refs/heads/pipeline/T-25");
  EXPECT_EQ(ReadTextFile(*wt + "/notes.txt"), "uncommitted\n");

  // Work that does not continue the task branch is refused, and kept.
  G(*wt, {"checkout", "-q", "-b", "elsewhere", "main"});
  std::string stray = Commit(*wt, "c.txt", "c\n");
  auto refused = git_.TakeHeadOntoTaskBranch(*wt, "T-25", "main");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.kind(), ErrorKind::kRefused);
  EXPECT_NE(refused.message().find("commits on branch elsewhere, not on the task branch pipeline/T-25"),
            std::string::npos)
      << refused.message();
  EXPECT_EQ(Sha("pipeline/T-25"), second);
  EXPECT_EQ(Sha("refs/pipeline/archive/T-25/1"), stray);
  EXPECT_EQ(G(*wt, {"symbolic-ref", "HEAD"}), "refs/heads/pipeline/T-25");  // given back
}

}  // namespace
}  // namespace pipeline
