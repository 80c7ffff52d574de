// The merge queue's hook for the "base red" notification: when the base
// branch turns red, the queue records it with RecordBaseRed inside the
// transaction that makes the transition; the notifier (notifier.h) sends one
// "base-red" notification per row. Header-only on purpose: the merge queue
// (sched/, integrate/) does not link the HTTP server, and this needs only
// the store.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "store/db.h"
#include "util/clock.h"
#include "util/status.h"

namespace pipeline::serve {

inline constexpr const char* kBaseRedEventKind = "base-red";

// The events row's detail: {"base": ..., "output": ...}.
inline std::string BaseRedEventDetail(const std::string& base, const std::string& output) {
  return nlohmann::json{{"base", base}, {"output", output}}.dump(-1, ' ', false,
                                                                 nlohmann::json::error_handler_t::replace);
}

// One row per transition into red (a base that stays red writes none);
// run_id: the integration run whose check found it, if any. Nests in the
// caller's transaction.
inline Status RecordBaseRed(Db& db, Micros at, const std::string& base, const std::string& output,
                            const std::optional<std::string>& run_id = std::nullopt) {
  return db.Write([&]() -> Status {
    return db.Cached("INSERT INTO events (at, task_id, run_id, kind, detail) VALUES (?, NULL, ?, ?, ?)")
        .BindAll(at, run_id, kBaseRedEventKind, BaseRedEventDetail(base, output))
        .Run();
  });
}

}  // namespace pipeline::serve
