#include "demo/project.h"

#include "util/files.h"
#include "util/text.h"

namespace pipeline::demo {

const std::map<std::string, std::string>& DemoProjectFiles() {
  static const std::map<std::string, std::string> kFiles = {
      {"README.md",
       "# textkit\n"
       "\n"
       "Small text utilities in POSIX shell. Load them with `. lib/textkit.sh`\n"
       "from the project root.\n"
       "\n"
       "Run the tests with `sh tests/run.sh`.\n"},
      {"AGENTS.md",
       "# Conventions\n"
       "\n"
       "- POSIX sh only; functions are named `tk_<name>`.\n"
       "- One module per area in `lib/`, listed in `lib/textkit.sh`.\n"
       "- Every function has a test file `tests/test_<name>.sh`.\n"
       "- Run `sh tests/run.sh` before committing; commit with a `Task-Id:` trailer.\n"},
      {"lib/textkit.sh",
       "# textkit: loads every module. Modules are listed one per line below.\n"
       "TEXTKIT_LIB=${TEXTKIT_LIB:-lib}\n"
       ". \"$TEXTKIT_LIB/case.sh\"\n"},
      {"lib/case.sh",
       "# Letter case.\n"
       "\n"
       "# tk_upper TEXT: TEXT in upper case.\n"
       "tk_upper() {\n"
       "  printf '%s\\n' \"$1\" | tr '[:lower:]' '[:upper:]'\n"
       "}\n"
       "\n"
       "# tk_lower TEXT: TEXT in lower case.\n"
       "tk_lower() {\n"
       "  printf '%s\\n' \"$1\" | tr '[:upper:]' '[:lower:]'\n"
       "}\n"},
      {"tests/assert.sh",
       "# assert_eq NAME EXPECTED ACTUAL: report a mismatch and remember it.\n"
       "failures=0\n"
       "assert_eq() {\n"
       "  if [ \"$2\" != \"$3\" ]; then\n"
       "    printf 'FAIL %s: expected [%s], got [%s]\\n' \"$1\" \"$2\" \"$3\"\n"
       "    failures=$((failures + 1))\n"
       "  fi\n"
       "}\n"
       "# finish: the test file's exit status.\n"
       "finish() { [ \"$failures\" -eq 0 ]; }\n"},
      {"tests/test_case.sh",
       ". tests/assert.sh\n"
       ". lib/textkit.sh\n"
       "assert_eq upper HELLO \"$(tk_upper hello)\"\n"
       "assert_eq lower hello \"$(tk_lower HeLLo)\"\n"
       "finish\n"},
      {"tests/run.sh",
       "#!/bin/sh\n"
       "# Runs every tests/test_*.sh from the project root; fails if any fails.\n"
       "cd \"$(dirname \"$0\")/..\" || exit 2\n"
       "total=0\n"
       "failed=0\n"
       "for t in tests/test_*.sh; do\n"
       "  total=$((total + 1))\n"
       "  if sh \"$t\"; then echo \"ok   $t\"; else echo \"FAIL $t\"; failed=$((failed + 1)); fi\n"
       "done\n"
       "echo \"$total test files, $failed failed\"\n"
       "[ \"$failed\" -eq 0 ]\n"},
  };
  return kFiles;
}

Result<std::string> RunGit(ProcessRunner& runner, const std::string& dir, const std::vector<std::string>& args) {
  Command cmd;
  cmd.argv = {"git", "-C", dir};
  cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
  cmd.env_set = {{"LC_ALL", "C"}, {"GIT_TERMINAL_PROMPT", "0"}};
  // A hook or an outer git may have exported these; the directory given is the repository used.
  cmd.env_unset = {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"};
  cmd.timeout_ms = 60000;
  PL_ASSIGN_OR_RETURN(CommandResult r, runner.Run(cmd));
  if (!r.ok()) {
    std::string why = Trim(r.err.empty() ? r.out : r.err);
    return IOError("git " + (args.empty() ? std::string() : args.front()) + " failed: " + SingleLine(why));
  }
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

Status CreateDemoProject(ProcessRunner& runner, const std::string& dir) {
  if (!IsDirectory(dir)) return NotFound("no such directory: " + dir);
  for (const auto& [rel, text] : DemoProjectFiles()) {
    std::string path = JoinPath(dir, rel);
    PL_RETURN_IF_ERROR(MakeDirs(path.substr(0, path.find_last_of('/'))));
    PL_RETURN_IF_ERROR(WriteFileAtomic(path, text));
  }
  PL_RETURN_IF_ERROR(RunGit(runner, dir, {"init", "-q", "-b", kDemoBaseBranch}).status());
  PL_RETURN_IF_ERROR(RunGit(runner, dir, {"config", "user.name", kDemoUserName}).status());
  PL_RETURN_IF_ERROR(RunGit(runner, dir, {"config", "user.email", kDemoUserEmail}).status());
  PL_RETURN_IF_ERROR(RunGit(runner, dir, {"config", "commit.gpgsign", "false"}).status());
  PL_RETURN_IF_ERROR(RunGit(runner, dir, {"add", "-A"}).status());
  PL_RETURN_IF_ERROR(RunGit(runner, dir, {"commit", "-q", "-m", "textkit: case functions and a test runner"}).status());
  return Status::Ok();
}

}  // namespace pipeline::demo
