// The merge queue's threads (a batch's checks, its changes looked at against
// the base) are std::async futures that refer to the worker's state: every
// one must be waited for, also after another has failed, before that state
// goes away.
#pragma once

#include <future>
#include <optional>
#include <vector>

#include "util/status.h"

namespace pipeline {

// Waits for every future; their values in order, or the first error.
template <typename T>
Result<std::vector<T>> WaitForAll(std::vector<std::future<Result<T>>>& running) {
  std::vector<T> values;
  std::optional<Error> failed;
  for (auto& f : running) {
    Result<T> r = f.get();
    if (!r.ok()) {
      if (!failed) failed = r.error();
      continue;
    }
    values.push_back(std::move(*r));
  }
  if (failed) return *failed;
  return values;
}

}  // namespace pipeline
