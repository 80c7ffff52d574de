// A direct writer for the task JSON text. `ready --json` over a large backlog
// prints tens of thousands of tasks; building nlohmann objects for each and
// dumping them costs more than the query. The bytes are exactly those of
// TaskToJson(t).dump(-1, ' ', true) (keys sorted, ASCII only); a test holds
// the two together.
#include "tasks/task.h"

namespace pipeline {

namespace {

void Hex4(std::string* out, unsigned v) {
  static const char kHex[] = "0123456789abcdef";
  out->append("\\u");
  for (int shift = 12; shift >= 0; shift -= 4) out->push_back(kHex[(v >> shift) & 0xf]);
}

// REQUIRES: s is valid UTF-8 (the store holds nothing else).
void Str(std::string* out, const std::string& s) {
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      // A run of plain characters goes in with one append.
      size_t j = i + 1;
      while (j < s.size()) {
        unsigned char d = static_cast<unsigned char>(s[j]);
        if (d < 0x20 || d >= 0x7f || d == '"' || d == '\\') break;
        ++j;
      }
      out->append(s, i, j - i);
      i = j;
      continue;
    }
    if (c < 0x80) {
      switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\b': out->append("\\b"); break;
        case '\f': out->append("\\f"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        default: Hex4(out, c);
      }
      ++i;
      continue;
    }
    size_t n = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : 3;
    unsigned cp = c & (n == 1 ? 0x1F : n == 2 ? 0x0F : 0x07);
    for (size_t k = 1; k <= n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    if (cp <= 0xFFFF) {
      Hex4(out, cp);
    } else {
      cp -= 0x10000;
      Hex4(out, 0xD800 + (cp >> 10));
      Hex4(out, 0xDC00 + (cp & 0x3FF));
    }
    i += n + 1;
  }
  out->push_back('"');
}

void Digits(char* at, int64_t v, int width) {
  for (int i = width - 1; i >= 0; --i, v /= 10) at[i] = static_cast<char>('0' + v % 10);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

// FormatIso8601(t) without gmtime_r and snprintf, which cost more than the
// rest of a task's text. Days to a civil date: H. Hinnant's days_from_civil
// inverse (proleptic Gregorian, as gmtime). Years outside 0..9999 (never
// stored) fall back to the library.
void Time(std::string* out, Micros t) {
  int64_t secs = FloorDiv(t, 1'000'000), frac = t - secs * 1'000'000;
  int64_t days = FloorDiv(secs, 86'400), sod = secs - days * 86'400;
  int64_t z = days + 719'468;
  int64_t era = FloorDiv(z, 146'097);
  int64_t doe = z - era * 146'097;
  int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t day = doy - (153 * mp + 2) / 5 + 1;
  int64_t month = mp < 10 ? mp + 3 : mp - 9;
  int64_t year = yoe + era * 400 + (month <= 2);
  out->push_back('"');
  if (year < 0 || year > 9999) {
    out->append(FormatIso8601(t)).push_back('"');
    return;
  }
  char b[] = "YYYY-MM-DDTHH:MM:SS.ffffffZ\"";
  Digits(b, year, 4);
  Digits(b + 5, month, 2);
  Digits(b + 8, day, 2);
  Digits(b + 11, sod / 3600, 2);
  Digits(b + 14, sod / 60 % 60, 2);
  Digits(b + 17, sod % 60, 2);
  Digits(b + 20, frac, 6);
  out->append(b, sizeof b - 1);
}

void OptStr(std::string* out, const std::optional<std::string>& s) {
  if (s) Str(out, *s);
  else out->append("null");
}

void StrList(std::string* out, const std::vector<std::string>& v) {
  out->push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out->push_back(',');
    Str(out, v[i]);
  }
  out->push_back(']');
}

}  // namespace

void AppendTaskJsonText(std::string* out, const Task& t) {
  out->append("{\"taskComments\":[");
  for (size_t i = 0; i < t.comments.size(); ++i) {
    const Comment& c = t.comments[i];
    out->append(i ? ",{\"commentAuthor\":" : "{\"commentAuthor\":");
    Str(out, c.author);
    out->append(",\"commentCreatedAt\":");
    Time(out, c.created_at);
    out->append(",\"commentText\":");
    Str(out, c.text);
    out->push_back('}');
  }
  out->append("],\"taskComplexity\":");
  out->append(t.complexity ? std::to_string(*t.complexity) : "null");
  out->append(",\"taskCreatedAt\":");
  Time(out, t.created_at);
  out->append(",\"taskDependencies\":");
  StrList(out, t.deps);
  out->append(",\"taskDescription\":");
  Str(out, t.description);
  out->append(",\"taskId\":");
  Str(out, t.id);
  out->append(",\"taskNamespace\":");
  OptStr(out, t.ns);
  out->append(",\"taskParent\":");
  OptStr(out, t.parent);
  out->append(",\"taskPatchsetCount\":").append(std::to_string(t.patchset));
  out->append(",\"taskPriority\":\"P").append(std::to_string(t.priority));
  out->append("\",\"taskStatus\":\"").append(TaskStatusName(t.status)).append("\",\"taskTags\":");
  StrList(out, t.tags);
  out->append(",\"taskTitle\":");
  Str(out, t.title);
  out->append(",\"taskType\":");
  Str(out, t.type);
  out->append(",\"taskUpdatedAt\":");
  Time(out, t.updated_at);
  out->push_back('}');
}

}  // namespace pipeline
