#include "slurm/submitter.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

namespace pipeline::slurm {

Submitter::Submitter(Client& client) : client_(client), event_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

Submitter::~Submitter() {
  std::map<std::string, std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(threads_);
  }
  for (auto& [id, t] : threads)
    if (t.joinable()) t.join();
  if (event_fd_ >= 0) close(event_fd_);
}

void Submitter::Submit(const std::string& run_id, SubmitRequest request) {
  std::thread previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A run is submitted once; a second Submit for it (never done by the
    // launcher) would otherwise leak the first thread.
    if (auto it = threads_.find(run_id); it != threads_.end()) {
      previous = std::move(it->second);
      threads_.erase(it);
    }
    pending_.insert(run_id);
  }
  if (previous.joinable()) previous.join();
  std::thread t([this, run_id, request = std::move(request)] {
    Result<std::string> id = client_.Submit(request);
    {
      std::lock_guard<std::mutex> lock(mu_);
      answers_.push_back(Answer{run_id, std::move(id)});
    }
    uint64_t one = 1;
    ssize_t n;
    do n = write(event_fd_, &one, sizeof one);
    while (n < 0 && errno == EINTR);
  });
  std::lock_guard<std::mutex> lock(mu_);
  threads_[run_id] = std::move(t);
}

void Submitter::Acknowledge() {
  uint64_t count;
  ssize_t n;
  do n = read(event_fd_, &count, sizeof count);
  while (n < 0 && errno == EINTR);
}

std::vector<Submitter::Answer> Submitter::Take() {
  Acknowledge();
  std::vector<Answer> out;
  std::vector<std::thread> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out.swap(answers_);
    for (const Answer& a : out) {
      pending_.erase(a.run_id);
      if (auto it = threads_.find(a.run_id); it != threads_.end()) {
        finished.push_back(std::move(it->second));
        threads_.erase(it);
      }
    }
  }
  // Each has pushed its answer: what is left of it is returning.
  for (auto& t : finished)
    if (t.joinable()) t.join();
  return out;
}

bool Submitter::Pending(const std::string& run_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.count(run_id) > 0;
}

bool Submitter::AnyPending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !pending_.empty();
}

bool Submitter::WaitForAnswer(Micros timeout) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!answers_.empty()) return true;
  }
  struct pollfd p = {event_fd_, POLLIN, 0};
  int ms = static_cast<int>(std::clamp<Micros>((timeout + 999) / 1000, 0, 3'600'000));
  int rc;
  do rc = poll(&p, 1, ms);
  while (rc < 0 && errno == EINTR);
  return rc > 0;
}

}  // namespace pipeline::slurm
