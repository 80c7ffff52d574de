// Run ids: `pipeline-<slug(domain)>-<slug(task)>-<epoch seconds>` as the seed
// builds them (docs/protocol.md, "Run ids"), made unique: the seed could give
// two runs one id (coinciding slugs, or a task re-spawned within a second;
// docs/protocol.md, "Run ids are unique").
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace pipeline {

// The seed's form. Slug keeps only ASCII alphanumerics, so ids stay ASCII.
std::string BaseRunId(const std::string& domain, const std::string& task_id, int64_t epoch_s);

// BaseRunId, then "-2", "-3", ... until taken() says the id is free.
std::string UniqueRunId(const std::string& domain, const std::string& task_id, int64_t epoch_s,
                        const std::function<bool(const std::string&)>& taken);

}  // namespace pipeline
