#include "sched/run_id.h"

#include "util/text.h"

namespace pipeline {

std::string BaseRunId(const std::string& domain, const std::string& task_id, int64_t epoch_s) {
  return "pipeline-" + Slug(domain) + "-" + Slug(task_id) + "-" + std::to_string(epoch_s);
}

std::string UniqueRunId(const std::string& domain, const std::string& task_id, int64_t epoch_s,
                        const std::function<bool(const std::string&)>& taken) {
  std::string base = BaseRunId(domain, task_id, epoch_s);
  if (!taken(base)) return base;
  for (int n = 2;; ++n) {
    std::string id = base + "-" + std::to_string(n);
    if (!taken(id)) return id;
  }
}

}  // namespace pipeline
