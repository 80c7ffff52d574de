#include "sandbox/in_run_cli.h"

#include <cstdio>
#include <cstdlib>

#include "sandbox/run_channel.h"

namespace pipeline {
namespace {

int Refuse(const std::string& what) {
  fprintf(stderr,
          "pipeline: refused inside a confined run: %s (a run may only `task comment` and `task show` its own task)\n",
          what.c_str());
  return 1;
}

void PrintTask(const nlohmann::json& t) {
  auto str = [&](const char* k) { return t.contains(k) && t[k].is_string() ? t[k].get<std::string>() : std::string(); };
  printf("%s  %s  [%s]  %s\n", str("taskId").c_str(), str("taskTitle").c_str(), str("taskStatus").c_str(),
         str("taskPriority").c_str());
  if (!str("taskDescription").empty()) printf("\n%s\n", str("taskDescription").c_str());
  if (t.contains("taskComments") && t["taskComments"].is_array() && !t["taskComments"].empty()) {
    printf("\ncomments:\n");
    for (const auto& c : t["taskComments"]) {
      auto field = [&](const char* k) { return c.contains(k) && c[k].is_string() ? c[k].get<std::string>() : ""; };
      printf("  [%s] %s  %s\n", field("commentAuthor").c_str(), field("commentCreatedAt").c_str(), field("commentText").c_str());
    }
  }
}

}  // namespace

std::optional<int> InsideRunCommand(const std::string& command, const std::vector<std::string>& args) {
  const char* socket = getenv("PIPELINE_RUN_SOCKET");
  if (!socket || !*socket) return std::nullopt;
  std::vector<std::string> positional;
  bool json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") json = true;
    else if ((a == "--root" || a == "--author") && i + 1 < args.size()) ++i;  // the monitor knows both
    else if (a.rfind("--root=", 0) == 0 || a.rfind("--author=", 0) == 0) continue;
    else positional.push_back(a);
  }
  std::string sub = positional.empty() ? "" : positional[0];
  if (command != "task" || (sub != "comment" && sub != "show"))
    return Refuse("`" + command + (sub.empty() ? "" : " " + sub) + "`");
  nlohmann::json req;
  if (sub == "comment") {
    if (positional.size() != 3) {
      fprintf(stderr, "pipeline task comment: usage: pipeline task comment ID TEXT\n");
      return 2;
    }
    req = {{"op", "comment"}, {"task_id", positional[1]}, {"text", positional[2]}};
  } else {
    if (positional.size() != 2) {
      fprintf(stderr, "pipeline task show: usage: pipeline task show ID\n");
      return 2;
    }
    req = {{"op", "show"}, {"task_id", positional[1]}};
  }
  auto reply = AskRunChannel(socket, req);
  if (!reply.ok()) {
    fprintf(stderr, "pipeline: %s\n", reply.message().c_str());
    return 1;
  }
  if (!reply->value("ok", false)) {
    fprintf(stderr, "pipeline: %s\n", reply->value("error", std::string("refused by the run's monitor")).c_str());
    return 1;
  }
  const nlohmann::json& task = (*reply)["task"];
  if (json) printf("%s\n", task.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace).c_str());
  else if (sub == "comment") printf("Commented on %s\n", positional[1].c_str());
  else PrintTask(task);
  return 0;
}

}  // namespace pipeline
