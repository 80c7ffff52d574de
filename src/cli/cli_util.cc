#include "cli/cli_util.h"

#include <cstdio>
#include <iostream>

#include "util/log.h"

namespace pipeline {

std::optional<int> ParseArgs(CLI::App& app, const std::vector<std::string>& args) {
  std::vector<std::string> rev(args.rbegin(), args.rend());
  try {
    app.parse(rev);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& e) {
    LogLine(app.get_name() + ": " + e.what() + " (see --help)");
    return 2;
  }
  return std::nullopt;
}

int Fail(const Error& e) {
  Log("{}", e.message);
  return ExitCodeFor(e.kind);
}

int Fail(const Status& s) { return s.ok() ? 0 : Fail(s.error()); }

int UsageError(const std::string& message) {
  Log("{}", message);
  return 2;
}

void PrintJson(const nlohmann::json& j) {
  // Invalid UTF-8 never reaches stdout as raw bytes: replace it.
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  fwrite(s.data(), 1, s.size(), stdout);
  fputc('\n', stdout);
  fflush(stdout);
}

void AddStoreFlags(CLI::App& app, StoreFlags* flags) {
  app.add_option("--root", flags->root, "Pipeline root directory (default: $PIPELINE_ROOT, else the nearest .pipeline)");
  app.add_flag("--json", flags->json, "Print one JSON document on stdout");
}

Result<SchedulerSetup> LoadSchedulerSetup(const std::optional<std::string>& root_flag) {
  PL_ASSIGN_OR_RETURN(RootPaths paths, FindRoot(root_flag));
  PL_RETURN_IF_ERROR(RequireStore(paths));
  PL_ASSIGN_OR_RETURN(Config config, Config::Load(paths.config()));
  PL_ASSIGN_OR_RETURN(SchedulerOptions options, OptionsFromConfig(config));
  return SchedulerSetup{std::move(paths), std::move(config), std::move(options)};
}

}  // namespace pipeline
