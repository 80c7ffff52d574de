// The demo's backlog: ten tasks for the textkit sample project in three
// domains, with dependencies, budgets, and for each task the change the
// scripted agent makes and what each of its runs costs. Three tasks carry a
// scenario: one fails verification once, one asks a question first, and two
// (in different domains) edit the same lines of lib/textkit.sh so that the
// one integrated second meets a merge conflict and is redone.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "demo/edit.h"

namespace pipeline::demo {

enum class DemoRole {
  kPlain,
  kFailsVerifyOnce,  // first patchset has a bug the tests catch; fixed from the feedback
  kAsksQuestion,     // asks first (no commit -> needs-help), implements after the answer
  kConflictPair,     // edits the same lines as the other task of the pair
};
const char* DemoRoleName(DemoRole role);

struct DemoTaskSpec {
  std::string key;  // names the script; the task's description carries DemoMarker(key)
  std::string title;
  std::string ns;  // namespace, which is also the domain
  int priority = 2;
  std::vector<std::string> deps;  // keys of other tasks
  std::string description;        // without the marker
  DemoRole role = DemoRole::kPlain;
  std::vector<FileOp> ops;        // the change
  std::vector<FileOp> buggy_ops;  // kFailsVerifyOnce: what the first patchset does instead
  std::vector<FileOp> fix_ops;    // kFailsVerifyOnce: applied on top of buggy_ops
  std::string bug_signature;      // kFailsVerifyOnce: text present only while the bug is
  int64_t cost_cents = 0;           // a run that implements the task
  int64_t retry_cost_cents = 0;     // a run after a rejection (fix or redo)
  int64_t question_cost_cents = 0;  // kAsksQuestion: the run that asks
};

const std::vector<DemoTaskSpec>& DemoBacklog();
const DemoTaskSpec* FindDemoTask(std::string_view key);
// "demo-script: <key>": the line that tells the scripted agent which task it holds.
std::string DemoMarker(std::string_view key);
// The description stored in the tracker: the spec's text plus its marker.
std::string DemoDescription(const DemoTaskSpec& spec);

struct DemoBudget {
  std::string domain;
  int64_t cents = 0;
};
// Starting budgets. "docs" is tight on purpose: after its first three tasks
// what is left is less than one run's hold, so the last docs task waits until
// the demo, acting as the person who owns the budget, grants more.
const std::vector<DemoBudget>& DemoBudgets();
inline constexpr int64_t kDemoReserveCents = 100;  // the hold per run (scheduler.reserve_cents)
inline constexpr int64_t kDemoTopUpCents = 100;    // what the person grants when docs runs dry

// What the question task asks, and the answer the demo posts as a person.
// The agent recognises the answer by kDemoAnswerKey.
inline constexpr const char* kDemoQuestion =
    "Should tk_pad pad on the left or on the right, and with which character?";
inline constexpr const char* kDemoAnswer =
    "Pad on the left, with spaces by default; take an optional third argument for the pad "
    "character, and name it tk_pad_left.";
inline constexpr const char* kDemoAnswerKey = "Pad on the left";

}  // namespace pipeline::demo
