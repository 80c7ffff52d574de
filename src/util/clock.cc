#include "util/clock.h"

#include <cstdio>
#include <ctime>
#include <chrono>

namespace pipeline {
namespace {

class RealClock final : public Clock {
 public:
  Micros Now() const override {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  }
  Micros MonotonicNow() const override {
    using namespace std::chrono;
    return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
  }
};

}  // namespace

Clock& SystemClock() {
  static RealClock clock;
  return clock;
}

std::string FormatIso8601(Micros t) {
  time_t secs = static_cast<time_t>(t / 1'000'000);
  int64_t frac = t % 1'000'000;
  if (frac < 0) {
    frac += 1'000'000;
    secs -= 1;
  }
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(frac));
  return buf;
}

bool ParseIso8601(const std::string& s, Micros* out) {
  int y, mo, d, h, mi, sec;
  char sep;
  int consumed = 0;
  if (sscanf(s.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &sec, &consumed) != 7)
    return false;
  if (sep != 'T' && sep != ' ') return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
  size_t i = static_cast<size_t>(consumed);
  int64_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 6) {
        frac = frac * 10 + (s[i] - '0');
        ++digits;
      }
      ++i;
    }
    if (digits == 0) return false;
    while (digits++ < 6) frac *= 10;
  }
  std::string rest = s.substr(i);
  if (!(rest == "Z" || rest == "" || rest == "+00:00" || rest == " UTC")) return false;
  struct tm tm {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  time_t secs = timegm(&tm);
  *out = static_cast<Micros>(secs) * 1'000'000 + frac;
  return true;
}

}  // namespace pipeline
