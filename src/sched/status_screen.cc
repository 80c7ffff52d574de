#include "sched/status_screen.h"

#include <fmt/format.h>

#include <algorithm>

#include "sched/status_snapshot.h"
#include "tasks/task.h"

namespace pipeline {

using nlohmann::json;

namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 when it is not a valid one.
size_t SequenceLength(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  return n;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : 0;
}

// "2026-12-01T16:42:01.123456Z" -> "16:42:01"
std::string ClockTime(const std::string& iso) { return iso.size() >= 19 ? iso.substr(11, 8) : iso; }

struct Section {
  std::string title;
  std::vector<std::string> items;
  bool always = false;  // shown (as its title) even when empty
};

}  // namespace

int DisplayWidth(std::string_view s) {
  int w = 0;
  for (size_t i = 0; i < s.size();) {
    size_t n = SequenceLength(s, i);
    i += n ? n : 1;
    ++w;
  }
  return w;
}

std::string FitToWidth(std::string_view s, int width) {
  if (width <= 0) return "";
  // Code points with their bytes, control characters as spaces.
  std::vector<std::string_view> cps;
  std::string clean;
  clean.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = SequenceLength(s, i);
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (n == 0) {
      clean += '?';
      i += 1;
    } else if (n == 1 && (c < 0x20 || c == 0x7F)) {
      clean += ' ';
      i += 1;
    } else if (n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {
      clean += ' ';  // C1 controls
      i += 2;
    } else {
      clean.append(s.substr(i, n));
      i += n;
    }
  }
  if (DisplayWidth(clean) <= width) return clean;
  // Keep width - 1 code points and an ellipsis.
  std::string out;
  int w = 0;
  for (size_t i = 0; i < clean.size() && w < width - 1;) {
    size_t n = SequenceLength(clean, i);
    out.append(clean, i, n);
    i += n;
    ++w;
  }
  return out + "…";
}

std::vector<std::string> RenderStatusScreen(const json& j, int width, int height) {
  std::vector<std::string> lines;
  if (width <= 0 || height <= 0) return lines;

  // Header: three lines.
  std::vector<std::string> header;
  header.push_back(fmt::format("{}  {}  {}", j.contains("scheduler") ? SchedulerLine(j) : "scheduler: ?",
                               ClockTime(Str(j, "at")), Str(j, "root")));
  const json counts = j.value("counts", json::object());
  auto count = [&](TaskStatus s) { return Int(counts, TaskStatusName(s)); };
  header.push_back(fmt::format("tasks: {} open ({} ready) · {} in progress · {} needs help · {} review · {} verified · {} done",
                               count(TaskStatus::kOpen), Int(j, "ready"), count(TaskStatus::kInProgress),
                               count(TaskStatus::kNeedsHelp), count(TaskStatus::kReview), count(TaskStatus::kVerified),
                               count(TaskStatus::kDone)));
  std::string budgets = "budgets:";
  for (const auto& b : j.value("budgets", json::array()))
    budgets += fmt::format(" {} {}/{}c left{};", Str(b, "domain"), Int(b, "remaining_cents"), Int(b, "budget_cents"),
                           b.value("overrun_blocked", false) ? " (blocked)" : "");
  if (budgets == "budgets:") budgets += " none granted";
  else budgets.pop_back();
  header.push_back(budgets);
  // A protection a person switched off stays in sight (one line, only then).
  if (std::string off = j.contains("sandbox") ? Str(j["sandbox"], "line") : ""; !off.empty()) header.push_back(off);

  // Sections, most important first.
  std::vector<Section> sections(5);
  Section& running = sections[0];
  Section& attention = sections[1];
  Section& queue = sections[2];
  Section& waiting = sections[3];
  Section& events = sections[4];
  running.always = true;
  for (const auto& a : j.value("active_runs", json::array())) {
    double age = a.value("age_s", 0.0), cost = a.value("cost_cents", 0.0);
    running.items.push_back(fmt::format("  {}  {:<9} {:>5.0f}s {:>4.0f}c  {}  {}{}", Str(a, "arTaskId"), Str(a, "phase"), age,
                                        cost, Str(a, "arDomain"), Str(a, "title"),
                                        a.contains("queued") ? "  (" + Str(a, "queued") + ")" : ""));
  }
  running.title = running.items.empty() ? "Running: none" : fmt::format("Running ({})", running.items.size());

  std::vector<std::string> waiting_kinds_first = {"needs-person", "review", "integration-waiting", "orphan"};
  const json all_waiting = j.value("waiting", json::array());
  bool base_red_shown = false;
  for (const auto& kind : waiting_kinds_first)
    for (const auto& w : all_waiting) {
      if (Str(w, "kind") != kind) continue;
      const json detail = w.value("detail", json::object());
      if (detail.is_object() && detail.value("base_red", false)) {
        // One line for the whole queue: the base, not each change, needs a person.
        if (!base_red_shown) attention.items.push_back("  " + Str(w, "reason"));
        base_red_shown = true;
        continue;
      }
      attention.items.push_back(fmt::format("  {}  {}", Str(w, "task_id"), Str(w, "reason")));
    }
  size_t people = attention.items.size();
  const json failures = j.value("recent_failures", json::array());
  for (const auto& f : failures)
    attention.items.push_back(fmt::format("  {}  {}  {}: {}", ClockTime(Str(f, "at")), Str(f, "task_id"), Str(f, "kind"),
                                          Str(f, "detail")));
  attention.title = fmt::format("Needs attention: {} for a person, {} recent failures", people, failures.size());

  // The merge queue in order: what is checked together, what waits and why.
  int checking = 0;
  for (const auto& w : all_waiting) {
    const json detail = w.value("detail", json::object());
    if (!detail.is_object() || !detail.contains("queue_position")) continue;
    if (Str(w, "kind") == "running") ++checking;
    queue.items.push_back(fmt::format("  {:>2} {}  {}", Int(detail, "queue_position"), Str(w, "task_id"),
                                      Str(w, "reason")));
  }
  queue.title = fmt::format("Merge queue ({}): {} being checked{}", queue.items.size(), checking,
                            base_red_shown ? "; base red, nothing lands" : "");

  for (const auto& w : all_waiting) {
    std::string kind = Str(w, "kind");
    if (kind == "running" || kind == "integration-queued" ||
        std::find(waiting_kinds_first.begin(), waiting_kinds_first.end(), kind) != waiting_kinds_first.end())
      continue;
    waiting.items.push_back(fmt::format("  {}  {}", Str(w, "task_id"), Str(w, "reason")));
  }
  waiting.title = fmt::format("Waiting ({})", waiting.items.size());

  for (const auto& e : j.value("events", json::array()))
    events.items.push_back(fmt::format("  {}  {:<18} {}  {}", ClockTime(Str(e, "at")), Str(e, "kind"), Str(e, "task_id"),
                                       Str(e, "detail")));
  events.title = "Recent events";

  // Share the lines left after the header: first a title and one item for
  // every section (in order of importance), then the rest in that order.
  int avail = height - static_cast<int>(header.size());
  std::vector<int> given(sections.size(), 0);
  for (size_t i = 0; i < sections.size(); ++i) {
    int want = sections[i].items.empty() ? (sections[i].always ? 1 : 0) : 1 + static_cast<int>(sections[i].items.size());
    int first = std::min({want, 2, std::max(avail, 0)});
    given[i] = first;
    avail -= first;
  }
  for (size_t i = 0; i < sections.size() && avail > 0; ++i) {
    int want = sections[i].items.empty() ? given[i] : 1 + static_cast<int>(sections[i].items.size());
    int more = std::min(want - given[i], avail);
    given[i] += more;
    avail -= more;
  }

  for (const auto& h : header)
    if (static_cast<int>(lines.size()) < height) lines.push_back(FitToWidth(h, width));
  for (size_t i = 0; i < sections.size(); ++i) {
    const Section& s = sections[i];
    int n = given[i];
    if (n <= 0) continue;
    int items = static_cast<int>(s.items.size());
    if (n == 1 && items > 0) {
      lines.push_back(FitToWidth(s.title + fmt::format(" … {} not shown", items), width));
      continue;
    }
    lines.push_back(FitToWidth(s.title, width));
    int shown = n - 1;
    bool cut = shown < items;
    if (cut && shown >= 2) --shown;  // the last line says how many are left out (titles carry the total)
    else cut = false;
    for (int k = 0; k < shown; ++k) lines.push_back(FitToWidth(s.items[static_cast<size_t>(k)], width));
    if (cut) lines.push_back(FitToWidth(fmt::format("  … and {} more", items - shown), width));
  }
  if (static_cast<int>(lines.size()) > height) lines.resize(static_cast<size_t>(height));
  return lines;
}

}  // namespace pipeline
