// The first hour on a real repository: a small C project, a scripted agent,
// and the mistakes a new user makes (a typo in the configuration, no agent,
// no decision about checks, no git). Each must be refused before anything
// starts, with a line that says what to fix; once fixed, a patchset that does
// not compile is never merged, the agent is told why exactly once, and the
// next patchset waits for the back-off.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "sched_fixture.h"

namespace pipeline::testing {
namespace {

size_t Count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + needle.size())) ++n;
  return n;
}

void Git(const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"git", "-C", dir});
  auto r = RunArgv(args);
  ASSERT_TRUE(r.ok()) << r.err;
}

// A library with a Makefile whose `check` target compiles every C file.
void AddCProject(const SchedRepo& repo) {
  WriteTextFile(repo.dir() + "/greet.h", "#pragma once\nconst char* greet(void);\n");
  WriteTextFile(repo.dir() + "/greet.c", "#include \"greet.h\"\nconst char* greet(void) { return \"hello\"; }\n");
  WriteTextFile(repo.dir() + "/Makefile", "check:\n\tcc -Wall -fsyntax-only *.c\n");
  Git(repo.dir(), {"add", "-A"});
  Git(repo.dir(), {"commit", "-q", "-m", "greet library"});
}

// An agent whose change does not compile (a missing semicolon), committed.
std::string BrokenAgent(const SchedRepo& repo) {
  // Outside .pipeline/, which a confined run cannot see, and outside the
  // working tree, which it would dirty.
  std::string path = repo.dir() + "/.git/broken-agent.sh";
  WriteTextFile(path,
                "#!/bin/sh\nset -e\n"
                "printf '#include \"greet.h\"\\nint twice(void) { return 2 }\\n' > twice.c\n"
                "echo \"/* $PIPELINE_RUN_ID */\" >> twice.c\n"  // each patchset a new commit
                "git add twice.c\ngit commit -q -m \"twice\"\n");
  chmod(path.c_str(), 0755);
  return path;
}

std::string BaseConfig(const std::string& agent_section, const std::string& verify_section,
                       const std::string& scheduler_extra = "") {
  return "[fund]\ndefault_budget_cents = 100000\n"
         "[scheduler]\nreserve_cents = 10\nintegrate_retry_s = 1\n" + scheduler_extra + "\n" + agent_section +
         verify_section;
}

std::string AgentSection(const std::string& profile, const std::string& program) {
  return "[agent]\nprofile = \"" + profile + "\"\n" + ProfileToml("broken", {program});
}

// Every column of every task, and how many runs, comments and events exist.
std::string StoreState(SchedRepo& repo) {
  return repo.Text(
             "SELECT group_concat(quote(id)||quote(seq)||quote(title)||quote(type)||quote(parent)||quote(namespace)||"
             "quote(status)||quote(patchset)||quote(priority)||quote(complexity)||quote(description)||"
             "quote(created_at)||quote(updated_at)||quote(not_before)||quote(retries)||quote(feedback), ';') "
             "FROM (SELECT * FROM tasks ORDER BY seq)") +
         " runs=" + std::to_string(repo.Int("SELECT COUNT(*) FROM runs")) +
         " comments=" + std::to_string(repo.Int("SELECT COUNT(*) FROM comments")) +
         " events=" + std::to_string(repo.Int("SELECT COUNT(*) FROM events"));
}

std::string MainTip(const SchedRepo& repo) {
  auto r = RunArgv({"git", "-C", repo.dir(), "rev-parse", "main"});
  return r.out;
}

TEST(FirstRun, TypoInVerifyIsRefusedByEveryCommandAndNothingMerges) {
  SchedRepo repo("");
  AddCProject(repo);
  std::string config = BaseConfig(AgentSection("broken", BrokenAgent(repo)),
                                  "[verify]\ncomand = [\"make\", \"check\"]\n");
  WriteTextFile(repo.paths().config(), config);
  int line = static_cast<int>(Count(config.substr(0, config.find("comand")), "\n")) + 1;
  std::string id = repo.Task("add twice()", std::string("src"));
  std::string tip = MainTip(repo);
  std::string before = StoreState(repo);
  std::string expected =
      "/.pipeline/config.toml:" + std::to_string(line) + ": unknown key verify.comand; did you mean command?";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"run", "--until-idle"}, {"run", "--dry-run"}, {"status"}, {"doctor"},
        {"integrate-task", id}}) {
    auto r = RunPipeline(args, repo.dir(), {}, 60000);
    EXPECT_NE(r.exit.exit_code, 0) << args[0];
    if (args[0] != "integrate-task") {
      EXPECT_EQ(r.exit.exit_code, 2) << args[0] << ": " << r.err;
    }
    EXPECT_NE((r.err + r.out).find(expected), std::string::npos) << args[0] << ": " << r.err << r.out;
  }
  EXPECT_EQ(StoreState(repo), before);
  EXPECT_EQ(MainTip(repo), tip);
  // The same mistake as a section name.
  WriteTextFile(repo.paths().config(), BaseConfig(AgentSection("broken", BrokenAgent(repo)),
                                                  "[verfy]\ncommand = [\"make\", \"check\"]\n"));
  auto r = repo.Run({"--until-idle"});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("unknown section [verfy]; did you mean [verify]?"), std::string::npos) << r.err;
  EXPECT_EQ(StoreState(repo), before);
}

TEST(FirstRun, FixedTypoVerifiesRejectsBacksOffAndTellsTheAgentOnce) {
  SchedRepo repo("");
  AddCProject(repo);
  WriteTextFile(repo.paths().config(),
                BaseConfig(AgentSection("broken", BrokenAgent(repo)), "[verify]\ncommand = [\"make\", \"check\"]\n",
                           "backoff_base_s = 1\nmax_patchsets = 2\nmax_task_cost_cents = 0\n"));
  std::string id = repo.Task("add twice()", std::string("src"));
  ASSERT_TRUE(RunPipeline({"task", "comment", id, "Keep it in its own file", "--author", "human"}, repo.dir()).ok());
  std::string tip = MainTip(repo);
  auto r = repo.Run({"--until-idle"}, 120000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(repo.Status(id), "needs-help");
  EXPECT_EQ(MainTip(repo), tip) << "a patchset that does not compile was merged";
  ASSERT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE phase = 'dev'"), 2);
  // The second patchset started only after the back-off: 1 s * 2^1.
  int64_t rejected_at = repo.Int("SELECT MIN(ended_at) FROM runs WHERE phase = 'verify'");
  int64_t second_at = repo.Int("SELECT MAX(created_at) FROM runs WHERE phase = 'dev'");
  EXPECT_GE(second_at - rejected_at, 2'000'000);
  // The second prompt: the compiler's complaint once, no bookkeeping, our own words.
  std::string prompt = ReadTextFile(
      repo.Text("SELECT prompt_path FROM runs WHERE phase = 'dev' ORDER BY created_at DESC LIMIT 1"));
  EXPECT_NE(prompt.find("The previous patchset was rejected"), std::string::npos) << prompt;
  EXPECT_EQ(Count(prompt, "twice.c:2:"), 1u) << prompt;
  EXPECT_NE(prompt.find("[human] Keep it in its own file"), std::string::npos) << prompt;
  EXPECT_EQ(prompt.find("Pipeline scheduler:"), std::string::npos) << prompt;
  EXPECT_EQ(prompt.find("re-opening"), std::string::npos) << prompt;
  for (const char* word : {"seed", "haskell", "toolchain:"}) EXPECT_EQ(prompt.find(word), std::string::npos) << word;
  // The failure is the check's, named by its command, wherever it is told:
  // the log line, the run, the task's history and `status`.
  EXPECT_NE(r.err.find("verify `make check` exited 2"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("agent exited"), std::string::npos) << r.err;
  std::string run_error = repo.Text("SELECT error FROM runs WHERE phase = 'verify' ORDER BY created_at LIMIT 1");
  EXPECT_EQ(run_error.rfind("`make check` exited with code 2", 0), 0u) << run_error;
  auto status = RunPipeline({"status"}, repo.dir());
  EXPECT_NE(status.out.find("`make check` exited with code 2"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("agent exited"), std::string::npos) << status.out;
}

TEST(FirstRun, MissingOrMisspelledProfileStopsRunBeforeAnyTaskChanges) {
  SchedRepo repo("");
  AddCProject(repo);
  std::string verify = "[verify]\ncommand = [\"make\", \"check\"]\n";
  std::string a = repo.Task("first", std::string("src"));
  repo.Task("second", std::string("docs"));
  // As the README used to have it: no agent chosen yet.
  WriteTextFile(repo.paths().config(), BaseConfig("", verify));
  std::string before = StoreState(repo);
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--until-idle"}, {"--dry-run"}, {"--once"}}) {
    auto r = repo.Run(args);
    EXPECT_EQ(r.exit.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("no agent chosen: set [agent] profile"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nothing was started"), std::string::npos) << r.err;
  }
  EXPECT_EQ(StoreState(repo), before);
  // A misspelled built-in.
  WriteTextFile(repo.paths().config(), BaseConfig("[agent]\nprofile = \"claude-cod\"\n", verify));
  auto r = repo.Run({"--until-idle"});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("unknown agent profile claude-cod"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean claude-code?"), std::string::npos) << r.err;
  // A profile whose program is not installed.
  WriteTextFile(repo.paths().config(), BaseConfig(AgentSection("broken", "no-such-agent-program"), verify));
  r = repo.Run({"--until-idle"});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("the agent program no-such-agent-program (profile broken) is not found"), std::string::npos)
      << r.err;
  EXPECT_EQ(StoreState(repo), before);
  EXPECT_EQ(repo.Status(a), "open");
}

TEST(FirstRun, VerifyMustBeDecidedAndItsProgramFound) {
  SchedRepo repo("");
  std::string agent = AgentSection("broken", "true");
  repo.Task("first", std::string("src"));
  WriteTextFile(repo.paths().config(), BaseConfig(agent, ""));
  std::string before = StoreState(repo);
  auto r = repo.Run({"--until-idle"});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("no verify command: set [verify] command"), std::string::npos) << r.err;
  WriteTextFile(repo.paths().config(), BaseConfig(agent, "[verify]\ncommand = [\"no-such-checker\"]\n"));
  r = repo.Run({"--dry-run"});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("the verify program no-such-checker is not found"), std::string::npos) << r.err;
  EXPECT_EQ(StoreState(repo), before);
  // Switched off explicitly: it runs, and says so.
  WriteTextFile(repo.paths().config(), BaseConfig(agent, "[verify]\ncommand = []\n"));
  r = repo.Run({"--dry-run"});
  EXPECT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("verification is off"), std::string::npos) << r.err;
  // With every run going to review, no decision is needed.
  WriteTextFile(repo.paths().config(), BaseConfig(agent, "", "after_run = \"review\"\n"));
  r = repo.Run({"--dry-run"});
  EXPECT_EQ(r.exit.exit_code, 0) << r.err;
}

TEST(FirstRun, OutsideGitInitWarnsAndRunRefuses) {
  SchedRepo repo("", /*git=*/false);
  auto init = RunPipeline({"init"}, repo.dir());
  EXPECT_EQ(init.exit.exit_code, 0) << init.err;
  EXPECT_NE(init.err.find("is not a git repository"), std::string::npos) << init.err;
  EXPECT_NE(init.err.find("git init"), std::string::npos) << init.err;
  WriteTextFile(repo.paths().config(), BaseConfig(AgentSection("broken", "true"), "[verify]\ncommand = []\n"));
  std::string id = repo.Task("first", std::string("src"));
  std::string before = StoreState(repo);
  auto r = repo.Run({"--until-idle"}, 30000);
  EXPECT_EQ(r.exit.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("is not a git repository"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("--base BRANCH"), std::string::npos) << r.err;
  EXPECT_EQ(StoreState(repo), before);
  auto doctor = RunPipeline({"doctor"}, repo.dir());
  EXPECT_EQ(doctor.exit.exit_code, 2);
  EXPECT_NE(doctor.out.find("problem  workspace"), std::string::npos) << doctor.out;
}

TEST(FirstRun, BudgetlessDomainIsAWarningAndTheRestStarts) {
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(),
                "[fund]\ndefault_budget_cents = 0\n[scheduler]\nreserve_cents = 10\nafter_run = \"review\"\n" +
                    AgentSection("broken", "true"));
  ASSERT_TRUE(RunPipeline({"fund", "grant", "--domain", "src", "--cents", "100"}, repo.dir()).ok());
  std::string funded = repo.Task("funded", std::string("src"));
  std::string poor = repo.Task("poor", std::string("docs"));
  auto r = repo.Run({"--once"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: domain docs has 1 ready task and no budget"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("pipeline fund grant --domain docs"), std::string::npos) << r.err;
  EXPECT_EQ(repo.Int("SELECT COUNT(*) FROM runs WHERE task_id = '" + funded + "'"), 1);
  EXPECT_EQ(repo.Status(poor), "open");
  (void)repo.Run({"--until-idle"}, 60000);
}

TEST(FirstRun, InitWritesEverySectionWithTheChoicesFirstAndDoctorSaysWhatIsMissing) {
  TempDir dir;
  InitGitRepo(dir.path());
  auto init = RunPipeline({"init"}, dir.path());
  ASSERT_EQ(init.exit.exit_code, 0) << init.err;
  EXPECT_EQ(init.err, "");
  std::string text = ReadTextFile(dir.path() + "/.pipeline/config.toml");
  for (const char* section : {"[agent]", "[verify]", "[fund]", "[scheduler]", "[review]", "[integrate]",
                              "# [verify.domains.docs]", "# [domains.\"src/api\"]", "# [[domain_rules]]",
                              "# [profiles.my-agent]", "# [pricing.gpt-5]"})
    EXPECT_NE(text.find(section), std::string::npos) << section;
  EXPECT_LT(text.find("[agent]"), text.find("[scheduler]"));
  EXPECT_LT(text.find("[verify]"), text.find("[scheduler]"));
  EXPECT_EQ(text.find("seed"), std::string::npos);
  auto doctor = RunPipeline({"doctor"}, dir.path());
  EXPECT_EQ(doctor.exit.exit_code, 2);
  EXPECT_NE(doctor.out.find("ok       workspace"), std::string::npos) << doctor.out;
  EXPECT_NE(doctor.out.find("problem  agent"), std::string::npos) << doctor.out;
  EXPECT_NE(doctor.out.find("problem  verify"), std::string::npos) << doctor.out;
  // Uncommenting the two choices is all it takes.
  auto replace = [&](const std::string& from, const std::string& to) {
    size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  };
  replace("# command = [\"make\", \"test\"]", "command = [\"make\", \"test\"]");
  replace("# profile = \"claude-code\"", "profile = \"mine\"");
  WriteTextFile(dir.path() + "/.pipeline/config.toml", text + "\n[profiles.mine]\ncommand = [\"true\"]\n");
  doctor = RunPipeline({"doctor", "--json"}, dir.path());
  EXPECT_EQ(doctor.exit.exit_code, 0) << doctor.out << doctor.err;
  auto j = nlohmann::json::parse(doctor.out);
  EXPECT_EQ(j["ok"], true);
}

TEST(FirstRun, AgentListHasAHeaderTimesAndATaskFilter) {
  SchedRepo repo("");
  WriteTextFile(repo.paths().config(),
                BaseConfig(AgentSection("broken", "true"), "", "after_run = \"review\"\n"));
  std::string a = repo.Task("a", std::string("src"));
  std::string b = repo.Task("b", std::string("docs"));
  auto r = repo.Run({"--until-idle"}, 60000);
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  auto list = RunPipeline({"agent", "list"}, repo.dir());
  ASSERT_TRUE(list.ok()) << list.err;
  EXPECT_EQ(list.out.rfind("RUN ", 0), 0u) << list.out;
  EXPECT_NE(list.out.find("STARTED (UTC)"), std::string::npos);
  EXPECT_NE(list.out.find("DURATION"), std::string::npos);
  EXPECT_EQ(Count(list.out, "\n"), 3u) << list.out;
  auto only = RunPipeline({"agent", "list", "--task", a}, repo.dir());
  ASSERT_TRUE(only.ok()) << only.err;
  EXPECT_EQ(Count(only.out, "\n"), 2u) << only.out;
  EXPECT_NE(only.out.find(" " + a + " "), std::string::npos) << only.out;
  EXPECT_EQ(only.out.find(" " + b + " "), std::string::npos) << only.out;
}

}  // namespace
}  // namespace pipeline::testing
