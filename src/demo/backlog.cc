#include "demo/backlog.h"

namespace pipeline::demo {
namespace {

// Modules are registered in lib/textkit.sh one per line; the two tasks of the
// conflict pair each add their line after the last one, i.e. at the same place.
constexpr const char* kModuleLine = ". \"$TEXTKIT_LIB/";

std::vector<DemoTaskSpec> BuildBacklog() {
  std::vector<DemoTaskSpec> v;

  // --- strings ---
  DemoTaskSpec trim;
  trim.key = "trim";
  trim.title = "Add tk_trim (strip surrounding blanks)";
  trim.ns = "strings";
  trim.priority = 0;
  trim.description = "Start lib/strings.sh with tk_trim TEXT, which prints TEXT without leading and "
                     "trailing blanks, and register the module in lib/textkit.sh.";
  trim.role = DemoRole::kConflictPair;
  trim.ops = {
      WriteOp("lib/strings.sh", R"sh(# String functions.

# tk_trim TEXT: TEXT without leading and trailing blanks.
tk_trim() {
  printf '%s\n' "$1" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//'
}
)sh"),
      InsertAfterLastOp("lib/textkit.sh", kModuleLine, ". \"$TEXTKIT_LIB/strings.sh\"\n"),
      WriteOp("tests/test_trim.sh", R"sh(. tests/assert.sh
. lib/textkit.sh
assert_eq trim "a b" "$(tk_trim '  a b  ')"
assert_eq trim-empty "" "$(tk_trim '   ')"
finish
)sh"),
  };
  trim.cost_cents = 42;
  trim.retry_cost_cents = 31;
  v.push_back(trim);

  DemoTaskSpec repeat;
  repeat.key = "repeat";
  repeat.title = "Add tk_repeat (repeat a string N times)";
  repeat.ns = "strings";
  repeat.priority = 1;
  repeat.deps = {"trim"};
  repeat.description = "Add tk_repeat TEXT N to lib/strings.sh: TEXT repeated N times (N >= 0).";
  repeat.role = DemoRole::kFailsVerifyOnce;
  const char* repeat_test = R"sh(. tests/assert.sh
. lib/textkit.sh
assert_eq repeat-3 ababab "$(tk_repeat ab 3)"
assert_eq repeat-1 x "$(tk_repeat x 1)"
assert_eq repeat-0 "" "$(tk_repeat x 0)"
finish
)sh";
  const char* repeat_fn = R"sh(
# tk_repeat TEXT N: TEXT repeated N times.
tk_repeat() {
  _out='' _i=0
  while [ "$_i" -lt "$2" ]; do _out="$_out$1"; _i=$((_i + 1)); done
  printf '%s\n' "$_out"
}
)sh";
  std::string repeat_buggy = repeat_fn;
  repeat_buggy.replace(repeat_buggy.find("_i=0"), 4, "_i=1");
  repeat.ops = {AppendOp("lib/strings.sh", repeat_fn), WriteOp("tests/test_repeat.sh", repeat_test)};
  repeat.buggy_ops = {AppendOp("lib/strings.sh", repeat_buggy), WriteOp("tests/test_repeat.sh", repeat_test)};
  repeat.bug_signature = "_out='' _i=1";
  repeat.fix_ops = {ReplaceOp("lib/strings.sh", "_out='' _i=1", "_out='' _i=0")};
  repeat.cost_cents = 55;
  repeat.retry_cost_cents = 28;
  v.push_back(repeat);

  DemoTaskSpec pad;
  pad.key = "pad";
  pad.title = "Add tk_pad (pad a string to a width)";
  pad.ns = "strings";
  pad.priority = 2;
  pad.deps = {"repeat"};
  pad.description = "Add tk_pad to lib/strings.sh: pad TEXT to WIDTH columns.";
  pad.role = DemoRole::kAsksQuestion;
  pad.ops = {
      AppendOp("lib/strings.sh", R"sh(
# tk_pad_left TEXT WIDTH [CHAR]: TEXT right-aligned in WIDTH columns, padded
# with CHAR (default: a space). Longer TEXT is printed unchanged.
tk_pad_left() {
  _s=$1
  _c=${3:- }
  while [ "${#_s}" -lt "$2" ]; do _s="$_c$_s"; done
  printf '%s\n' "$_s"
}
)sh"),
      WriteOp("tests/test_pad.sh", R"sh(. tests/assert.sh
. lib/textkit.sh
assert_eq pad-spaces "   ab" "$(tk_pad_left ab 5)"
assert_eq pad-zeros 007 "$(tk_pad_left 7 3 0)"
assert_eq pad-longer abcdef "$(tk_pad_left abcdef 3)"
finish
)sh"),
  };
  pad.cost_cents = 47;
  pad.retry_cost_cents = 35;
  pad.question_cost_cents = 12;
  v.push_back(pad);

  // --- numbers ---
  DemoTaskSpec sum;
  sum.key = "sum";
  sum.title = "Add tk_sum (add integers)";
  sum.ns = "numbers";
  sum.priority = 0;
  sum.description = "Start lib/numbers.sh with tk_sum N..., which prints the sum of its arguments, "
                    "and register the module in lib/textkit.sh.";
  sum.role = DemoRole::kConflictPair;
  sum.ops = {
      WriteOp("lib/numbers.sh", R"sh(# Integer functions.

# tk_sum N...: the sum of the arguments (0 for none).
tk_sum() {
  _t=0
  for _n in "$@"; do _t=$((_t + _n)); done
  echo "$_t"
}
)sh"),
      InsertAfterLastOp("lib/textkit.sh", kModuleLine, ". \"$TEXTKIT_LIB/numbers.sh\"\n"),
      WriteOp("tests/test_sum.sh", R"sh(. tests/assert.sh
. lib/textkit.sh
assert_eq sum 6 "$(tk_sum 1 2 3)"
assert_eq sum-none 0 "$(tk_sum)"
assert_eq sum-negative -1 "$(tk_sum 2 -3)"
finish
)sh"),
  };
  sum.cost_cents = 38;
  sum.retry_cost_cents = 33;
  v.push_back(sum);

  DemoTaskSpec max;
  max.key = "max";
  max.title = "Add tk_max (largest of integers)";
  max.ns = "numbers";
  max.priority = 1;
  max.deps = {"sum"};
  max.description = "Add tk_max N... to lib/numbers.sh: the largest argument.";
  max.ops = {
      AppendOp("lib/numbers.sh", R"sh(
# tk_max N...: the largest argument.
tk_max() {
  _m=$1
  for _n in "$@"; do [ "$_n" -gt "$_m" ] && _m=$_n; done
  echo "$_m"
}
)sh"),
      WriteOp("tests/test_max.sh", R"sh(. tests/assert.sh
. lib/textkit.sh
assert_eq max 9 "$(tk_max 3 9 4)"
assert_eq max-negative -2 "$(tk_max -5 -2 -7)"
finish
)sh"),
  };
  max.cost_cents = 44;
  v.push_back(max);

  DemoTaskSpec clamp;
  clamp.key = "clamp";
  clamp.title = "Add tk_clamp (limit an integer to a range)";
  clamp.ns = "numbers";
  clamp.priority = 2;
  clamp.deps = {"max"};
  clamp.description = "Add tk_clamp N LO HI to lib/numbers.sh: N limited to [LO, HI].";
  clamp.ops = {
      AppendOp("lib/numbers.sh", R"sh(
# tk_clamp N LO HI: N limited to the range [LO, HI].
tk_clamp() {
  if [ "$1" -lt "$2" ]; then echo "$2"; elif [ "$1" -gt "$3" ]; then echo "$3"; else echo "$1"; fi
}
)sh"),
      WriteOp("tests/test_clamp.sh", R"sh(. tests/assert.sh
. lib/textkit.sh
assert_eq clamp-low 0 "$(tk_clamp -4 0 10)"
assert_eq clamp-high 10 "$(tk_clamp 42 0 10)"
assert_eq clamp-inside 7 "$(tk_clamp 7 0 10)"
finish
)sh"),
  };
  clamp.cost_cents = 51;
  v.push_back(clamp);

  // --- docs ---
  DemoTaskSpec usage;
  usage.key = "usage";
  usage.title = "README: a usage example";
  usage.ns = "docs";
  usage.priority = 1;
  usage.description = "Add a Usage section with a short example session to README.md.";
  usage.ops = {AppendOp("README.md", R"md(
## Usage

    $ . lib/textkit.sh
    $ tk_upper hello
    HELLO
)md")};
  usage.cost_cents = 24;
  v.push_back(usage);

  DemoTaskSpec strings_doc;
  strings_doc.key = "strings-doc";
  strings_doc.title = "Document the string functions";
  strings_doc.ns = "docs";
  strings_doc.priority = 2;
  strings_doc.deps = {"pad"};
  strings_doc.description = "Write docs/strings.md: one line per function of lib/strings.sh.";
  strings_doc.ops = {WriteOp("docs/strings.md", R"md(# String functions (lib/strings.sh)

- `tk_trim TEXT`: TEXT without leading and trailing blanks.
- `tk_repeat TEXT N`: TEXT repeated N times.
- `tk_pad_left TEXT WIDTH [CHAR]`: TEXT right-aligned in WIDTH columns.
)md")};
  strings_doc.cost_cents = 33;
  v.push_back(strings_doc);

  DemoTaskSpec numbers_doc;
  numbers_doc.key = "numbers-doc";
  numbers_doc.title = "Document the number functions";
  numbers_doc.ns = "docs";
  numbers_doc.priority = 2;
  numbers_doc.deps = {"clamp"};
  numbers_doc.description = "Write docs/numbers.md: one line per function of lib/numbers.sh.";
  numbers_doc.ops = {WriteOp("docs/numbers.md", R"md(# Integer functions (lib/numbers.sh)

- `tk_sum N...`: the sum of the arguments.
- `tk_max N...`: the largest argument.
- `tk_clamp N LO HI`: N limited to [LO, HI].
)md")};
  numbers_doc.cost_cents = 29;
  v.push_back(numbers_doc);

  DemoTaskSpec changelog;
  changelog.key = "changelog";
  changelog.title = "Start a CHANGELOG";
  changelog.ns = "docs";
  changelog.priority = 3;
  changelog.deps = {"strings-doc", "numbers-doc"};
  changelog.description = "Add CHANGELOG.md listing what this release adds.";
  changelog.ops = {WriteOp("CHANGELOG.md", R"md(# Changelog

## 0.1.0

- String functions: tk_trim, tk_repeat, tk_pad_left.
- Integer functions: tk_sum, tk_max, tk_clamp.
- Documentation in docs/ and a usage example in README.md.
)md")};
  changelog.cost_cents = 22;
  v.push_back(changelog);

  return v;
}

}  // namespace

const char* DemoRoleName(DemoRole role) {
  switch (role) {
    case DemoRole::kPlain: return "plain";
    case DemoRole::kFailsVerifyOnce: return "fails-verify-once";
    case DemoRole::kAsksQuestion: return "asks-question";
    case DemoRole::kConflictPair: return "conflict-pair";
  }
  return "plain";
}

const std::vector<DemoTaskSpec>& DemoBacklog() {
  static const std::vector<DemoTaskSpec> kBacklog = BuildBacklog();
  return kBacklog;
}

const DemoTaskSpec* FindDemoTask(std::string_view key) {
  for (const auto& t : DemoBacklog()) {
    if (t.key == key) return &t;
  }
  return nullptr;
}

std::string DemoMarker(std::string_view key) { return "demo-script: " + std::string(key); }

std::string DemoDescription(const DemoTaskSpec& spec) {
  return spec.description + "\n\n" + DemoMarker(spec.key);
}

const std::vector<DemoBudget>& DemoBudgets() {
  // docs: usage 24 + strings-doc 33 + numbers-doc 29 = 86 spent leaves 94,
  // less than one 100-cent hold, so the changelog waits for a grant.
  static const std::vector<DemoBudget> kBudgets = {
      {"strings", 400},
      {"numbers", 300},
      {"docs", 180},
  };
  return kBudgets;
}

}  // namespace pipeline::demo
