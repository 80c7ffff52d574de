#include "util/log.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace pipeline {

void LogLine(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  std::string line(text);
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  line.push_back('\n');
  // Whatever stdio still holds for stderr goes first, to keep the order.
  fflush(stderr);
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = write(STDERR_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report that stderr is gone
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace pipeline
