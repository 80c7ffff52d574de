// A log file that never grows past a cap: the first half of the cap is
// written as it comes; after that only the most recent half is kept (in
// memory) and written after a "[... N bytes dropped ...]" line, so a 200 MB
// flood costs cap bytes of disk and cap/2 of memory. Owned by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace pipeline {

class CappedLog {
 public:
  CappedLog() = default;
  ~CappedLog();
  CappedLog(const CappedLog&) = delete;
  CappedLog& operator=(const CappedLog&) = delete;

  // Creates (truncates) path. cap_bytes >= 2.
  Status Open(const std::string& path, uint64_t cap_bytes);
  void Append(std::string_view data);
  // Writes the kept tail after the head (if anything was dropped). Called
  // now and then while the agent runs, and at the end.
  void Flush();
  void Close();

  uint64_t total_bytes() const { return total_; }
  uint64_t dropped_bytes() const { return dropped_; }

 private:
  int fd_ = -1;
  uint64_t head_cap_ = 0, tail_cap_ = 0;
  uint64_t head_written_ = 0;
  uint64_t total_ = 0, dropped_ = 0;
  std::string ring_;     // circular buffer of the last tail_cap_ bytes past the head
  size_t ring_pos_ = 0;  // next write position once ring_ is full
  bool dirty_ = false;
};

}  // namespace pipeline
