// A run carried out as a cluster job: recorded in the scheduler's store,
// executed from files by `pipeline agent __job RUN_DIR` (on this host, then
// as a real Slurm job), its result imported back in one transaction.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "agent/run_store.h"
#include "slurm/client.h"
#include "slurm/cluster.h"
#include "slurm/node_job.h"
#include "store/root.h"
#include "tasks/task_store.h"
#include "testutil/testutil.h"
#include "util/clock.h"
#include "util/files.h"

namespace pipeline::slurm {
namespace {

using pipeline::testing::PipelineBin;
using pipeline::testing::RunArgv;
using pipeline::testing::TempDir;

class NodeJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    paths_ = RootPaths{dir_ / ".pipeline"};
    auto db = CreateStore(paths_);
    ASSERT_TRUE(db.ok()) << db.message();
    db_ = std::move(*db);
    auto t = TaskStore(*db_, SystemClock()).Create(NewTask{.title = "Add a health check", .ns = "src/api"});
    ASSERT_TRUE(t.ok()) << t.message();
    task_id_ = t->id;
    shared_ = dir_ / "shared/runs";
    ASSERT_TRUE(MakeDirs(shared_).ok());
    ASSERT_TRUE(MakeDirs(dir_ / "work").ok());
  }

  // Records a run whose agent writes a file, asks its question through the
  // task protocol and prints a line; returns its shared run directory.
  std::string RecordRun(const std::string& run_id) {
    RunSpec spec;
    spec.run_id = run_id;
    spec.task_id = task_id_;
    spec.domain = "src/api";
    spec.workspace = dir_ / "work";
    spec.argv = {"/bin/sh", "-c",
                 "echo from the node; echo done > \"$1\"; \"$2\" task comment \"$PIPELINE_TASK_ID\" 'Which port?'",
                 "sh", dir_ / "work/out.txt", PipelineBin()};
    spec.timeout_s = 60;
    EXPECT_TRUE(InsertRun(*db_, spec, SystemClock()).ok());
    std::string run_dir = shared_ + "/" + run_id;
    EXPECT_TRUE(MakeDirs(run_dir).ok());
    Status w = WriteJob(*db_, paths_, run_id, run_dir);
    EXPECT_TRUE(w.ok()) << w.message();
    return run_dir;
  }

  void ExpectImported(const std::string& run_id, const std::string& run_dir) {
    auto result = ReadJobResult(run_dir);
    ASSERT_TRUE(result.ok()) << result.message();
    ASSERT_TRUE(result->has_value()) << "no result.json in " << run_dir;
    Status imported = ImportJobResult(*db_, run_id, **result);
    ASSERT_TRUE(imported.ok()) << imported.message();
    auto run = GetRun(*db_, run_id);
    ASSERT_TRUE(run.ok());
    // The agent asked a question and changed nothing in git: needs-input, as a local run would.
    EXPECT_TRUE(run->status == RunStatus::kNeedsInput || run->status == RunStatus::kDone) << RunStatusName(run->status);
    EXPECT_EQ(pipeline::testing::ReadTextFile(dir_ / "work/out.txt"), "done\n");
    EXPECT_NE(pipeline::testing::ReadTextFile(run_dir + "/stdout.log").find("from the node"), std::string::npos);
    auto task = TaskStore(*db_, SystemClock()).Get(task_id_);
    ASSERT_TRUE(task.ok());
    bool asked = false;
    for (const auto& c : task->comments) asked = asked || (c.text == "Which port?" && c.author.rfind("agent:", 0) == 0);
    EXPECT_TRUE(asked) << "the agent's question did not reach the task";
    // Importing twice changes nothing and says so.
    EXPECT_EQ(ImportJobResult(*db_, run_id, **result).kind(), ErrorKind::kRefused);
    auto again = TaskStore(*db_, SystemClock()).Get(task_id_);
    EXPECT_EQ(again->comments.size(), task->comments.size());
  }

  TempDir dir_;
  RootPaths paths_;
  std::unique_ptr<Db> db_;
  std::string task_id_, shared_;
};

TEST_F(NodeJobTest, JobRunsFromFilesAndItsResultIsImportedOnce) {
  std::string run_dir = RecordRun("r-node-1");
  auto r = RunArgv({PipelineBin(), "agent", "__job", run_dir}, dir_.path(), {{"PIPELINE_ROOT", ""}});
  ASSERT_TRUE(r.ok()) << r.err << r.out;
  ExpectImported("r-node-1", run_dir);
  // The store of the scheduler's host was never opened by the job: no other
  // run row appeared, and the node's private root is gone.
  auto runs = ListRuns(*db_, false);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(runs->size(), 1u);
}

TEST_F(NodeJobTest, AJobWhoseRunDirectoryIsNotItsOwnFailsWithAResult) {
  std::string run_dir = RecordRun("r-node-2");
  std::string other = shared_ + "/r-other";
  ASSERT_TRUE(MakeDirs(other).ok());
  auto copied = RunArgv({"cp", run_dir + "/job.json", other + "/job.json"});
  ASSERT_TRUE(copied.ok());
  auto r = RunArgv({PipelineBin(), "agent", "__job", other});
  ASSERT_TRUE(r.ok()) << r.err;
  auto result = ReadJobResult(other);
  ASSERT_TRUE(result.ok() && result->has_value()) << result.message();
  EXPECT_EQ((*result)->outcome.status, RunStatus::kFailed);
  EXPECT_FALSE(PathExists(dir_ / "work/out.txt"));  // nothing ran
}

TEST_F(NodeJobTest, RunsAsARealSlurmJob) {
  std::string conf = pipeline::testing::EnsureSlurmCluster();
  ASSERT_FALSE(HasFailure());
  Client client(RealProcessRunner(), {.slurm_conf = conf});
  auto script = WriteJobScript(dir_ / "shared");
  ASSERT_TRUE(script.ok());
  std::string run_dir = RecordRun("r-node-3");
  SubmitRequest req;
  req.job_name = "pl-r-node-3";
  req.script = *script;
  req.args = {PipelineBin(), "agent", "__job", run_dir};
  req.chdir = run_dir;
  req.output = run_dir + "/job.out";
  auto id = client.Submit(req);
  ASSERT_TRUE(id.ok()) << id.message();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::optional<JobInfo> last;
  while (std::chrono::steady_clock::now() < deadline) {
    auto q = client.Query(*id);
    ASSERT_TRUE(q.ok()) << q.message();
    last = *q;
    if (last && IsFinal(last->state)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(last && last->state == JobState::kCompleted)
      << (last ? JobStateName(last->state) : "unknown") << " " << pipeline::testing::ReadTextFile(run_dir + "/job.out");
  ExpectImported("r-node-3", run_dir);
}

}  // namespace
}  // namespace pipeline::slurm
