#include "cli/dispatch.h"

#include <exception>
#include <string_view>

#include "util/log.h"

namespace pipeline {
namespace {

// Flags every store command takes, which the seed's callers may put before
// the subcommand's name; "--root" is the one that takes a value.
bool IsLeadingFlag(std::string_view a) { return a == "--json" || a == "--root" || a.rfind("--root=", 0) == 0; }

const Subcommand* Find(const CommandGroup& group, const std::string& name) {
  for (const auto& c : group.commands)
    if (name == c.name) return &c;
  return nullptr;
}

int RunGuarded(const CommandGroup& group, const char* name, int (*run)(const Args&), const Args& args) {
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::string who = group.program;
    if (name) who += std::string(" ") + name;
    LogLine(who + ": internal error: " + e.what());
    return 1;
  }
}

}  // namespace

void PrintCommandList(const CommandGroup& group, FILE* out) {
  fprintf(out, "%s\n\nusage: %s <command> [args...]\n\ncommands:\n", group.summary, group.program);
  size_t width = 0;
  for (const auto& c : group.commands)
    if (c.listed) width = std::max(width, std::string_view(c.name).size());
  for (const auto& c : group.commands)
    if (c.listed) fprintf(out, "  %-*s  %s\n", static_cast<int>(width), c.name, c.help);
  if (group.footer) fprintf(out, "\n%s\n", group.footer);
  fprintf(out, "\nRun `%s <command> --help` for a command's options.\n", group.program);
}

int Dispatch(const CommandGroup& group, const Args& args) {
  size_t at = 0;
  while (at < args.size() && IsLeadingFlag(args[at])) at += args[at] == "--root" ? 2 : 1;
  if (at >= args.size()) {
    if (group.otherwise) return RunGuarded(group, nullptr, group.otherwise, args);
    PrintCommandList(group, stderr);
    return 2;
  }
  const std::string& name = args[at];
  if (const Subcommand* c = Find(group, name)) {
    Args rest(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(at));
    rest.insert(rest.end(), args.begin() + static_cast<std::ptrdiff_t>(at) + 1, args.end());
    return RunGuarded(group, c->name, c->run, rest);
  }
  if (group.otherwise) return RunGuarded(group, nullptr, group.otherwise, args);
  if (name == "--help" || name == "-h" || name == "help") {
    PrintCommandList(group, stdout);
    return 0;
  }
  LogLine(std::string(group.program) + ": unknown command '" + name + "' (see `" + group.program + " --help`)");
  return 2;
}

}  // namespace pipeline
