// The task model: what one task is, its JSON form in the `task` protocol
// (docs/protocol.md, "task"), and the checks every way in (CLI, import) shares.
// The scheduler reads not_before / retries / feedback; they are not part of
// the protocol JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/clock.h"
#include "util/status.h"

namespace pipeline {

enum class TaskStatus { kOpen, kInProgress, kNeedsHelp, kReview, kVerified, kDone };
// Every status, in the order a task usually goes through them.
inline constexpr TaskStatus kAllTaskStatuses[] = {TaskStatus::kOpen,   TaskStatus::kInProgress, TaskStatus::kNeedsHelp,
                                                  TaskStatus::kReview, TaskStatus::kVerified,   TaskStatus::kDone};

// "open", "in-progress", "needs-help", "review", "verified", "done".
const char* TaskStatusName(TaskStatus s);
// Any spelling that normalises (NormalizeLabel) to one of the names: "InProgress", "IN_PROGRESS"...
std::optional<TaskStatus> ParseTaskStatus(std::string_view s);
// "P0".."P4" or "0".."4" (case-insensitive) -> 0..4.
std::optional<int> ParseTaskPriority(std::string_view s);
// "work" | "epic" (also the seed's "WorkTask" / "EpicTask").
std::optional<std::string> ParseTaskType(std::string_view s);

struct Comment {
  int64_t id = 0;
  std::string text;
  std::string author;  // "human" | "system" | "agent:<role>"
  Micros created_at = 0;
};

struct Task {
  std::string id;
  int64_t seq = 0;  // creation order; "oldest first" in ready
  std::string title;
  std::string type = "work";
  std::optional<std::string> parent, ns;
  TaskStatus status = TaskStatus::kOpen;
  int64_t patchset = 0;
  int priority = 2;
  std::optional<int> complexity;
  std::vector<std::string> deps;
  std::string description;
  std::vector<Comment> comments;
  std::vector<std::string> tags;
  Micros created_at = 0, updated_at = 0;
  // Owned by the scheduler.
  Micros not_before = 0;
  int64_t retries = 0;
  std::optional<std::string> feedback;
};

// The protocol JSON object (taskId, taskTitle, ...). Comment ids and the
// scheduler's columns are not part of it.
nlohmann::json TaskToJson(const Task& t);
// Appends the same object as text, byte for byte TaskToJson(t).dump(-1, ' ',
// true): sorted keys, ASCII only. Much faster for large lists.
void AppendTaskJsonText(std::string* out, const Task& t);
// The inverse, strict: every key must be known and well typed, every value
// valid. seq and comment ids are left 0 for the store to assign.
Result<Task> TaskFromJson(const nlohmann::json& j, Micros now);

// Checks shared by the CLI and import. Each returns a one-line reason.
// An id a task may be given on import: ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ and no "..".
Status ValidateTaskId(std::string_view id);
// "human", "system" or "agent:<role>" with role [a-z0-9_-]+.
Status ValidateAuthor(std::string_view author);
// One-line text (title, namespace, tag): valid UTF-8, non-empty, no control characters.
Status ValidateLine(std::string_view what, std::string_view s);
// Free text (description, comment): valid UTF-8 without NUL bytes.
Status ValidateText(std::string_view what, std::string_view s);

}  // namespace pipeline
