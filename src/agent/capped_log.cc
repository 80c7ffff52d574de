#include "agent/capped_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pipeline {
namespace {

void WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // a full disk loses log bytes, never the run
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

CappedLog::~CappedLog() { Close(); }

Status CappedLog::Open(const std::string& path, uint64_t cap_bytes) {
  Close();
  fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return IOError("cannot open " + path + ": " + strerror(errno));
  if (cap_bytes < 2) cap_bytes = 2;
  head_cap_ = cap_bytes / 2;
  tail_cap_ = cap_bytes - head_cap_;
  return Status::Ok();
}

void CappedLog::Append(std::string_view data) {
  if (fd_ < 0 || data.empty()) return;
  total_ += data.size();
  if (head_written_ < head_cap_) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(head_cap_ - head_written_, data.size()));
    WriteAll(fd_, data.data(), n);
    head_written_ += n;
    data.remove_prefix(n);
    if (data.empty()) return;
  }
  dirty_ = true;
  // Only the last tail_cap_ bytes of data can survive.
  if (data.size() > tail_cap_) {
    dropped_ += data.size() - tail_cap_;
    data.remove_prefix(data.size() - tail_cap_);
  }
  size_t cap = static_cast<size_t>(tail_cap_);
  if (ring_.size() < cap) {
    size_t n = std::min(cap - ring_.size(), data.size());
    ring_.append(data.data(), n);
    data.remove_prefix(n);
  }
  while (!data.empty()) {  // ring is full: overwrite the oldest bytes
    size_t n = std::min(cap - ring_pos_, data.size());
    ring_.replace(ring_pos_, n, data.data(), n);
    dropped_ += n;
    ring_pos_ = (ring_pos_ + n) % cap;
    data.remove_prefix(n);
  }
}

void CappedLog::Flush() {
  if (fd_ < 0 || !dirty_) return;
  dirty_ = false;
  if (lseek(fd_, static_cast<off_t>(head_written_), SEEK_SET) < 0) return;
  if (dropped_ > 0) {
    std::string marker = "\n[... " + std::to_string(dropped_) + " bytes dropped ...]\n";
    WriteAll(fd_, marker.data(), marker.size());
  }
  // Oldest first: from ring_pos_ to the end, then the start.
  WriteAll(fd_, ring_.data() + ring_pos_, ring_.size() - ring_pos_);
  WriteAll(fd_, ring_.data(), ring_pos_);
  off_t end = lseek(fd_, 0, SEEK_CUR);
  if (end >= 0 && ftruncate(fd_, end) != 0) {
    // Keeping a longer stale tail is harmless.
  }
}

void CappedLog::Close() {
  if (fd_ < 0) return;
  Flush();
  close(fd_);
  fd_ = -1;
}

}  // namespace pipeline
