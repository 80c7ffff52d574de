// Time is data: everything that needs "now" takes a Clock, so tests of
// timeouts, back-off and ages run instantly on a FakeClock.
#pragma once

#include <cstdint>
#include <string>

namespace pipeline {

// Microseconds since the Unix epoch (wall clock, UTC). Stored as INTEGER in the
// store; formatted as ISO-8601 only at the edges.
using Micros = int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Micros Now() const = 0;           // wall clock
  virtual Micros MonotonicNow() const = 0;  // for durations and deadlines
};

// The real clock (a process-wide instance; it holds no state).
Clock& SystemClock();

// A clock that only moves when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Micros start = 1'790'000'000'000'000) : now_(start) {}
  Micros Now() const override { return now_; }
  Micros MonotonicNow() const override { return now_; }
  void Advance(Micros d) { now_ += d; }
  void Set(Micros t) { now_ = t; }

 private:
  Micros now_;
};

// "2026-11-24T00:34:40.252885Z" (microseconds, always 6 digits, UTC).
std::string FormatIso8601(Micros t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction][Z|+00:00]" and "YYYY-MM-DD HH:MM:SS[.f] UTC".
// Returns false on anything else.
bool ParseIso8601(const std::string& s, Micros* out);

}  // namespace pipeline
