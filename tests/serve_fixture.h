// A scratch store and a running `pipeline serve` on an ephemeral loopback
// port, for the API tests, the browser tests and the benchmark. Header-only
// because every tests/*_test.cc links into one binary.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "proc/process.h"
#include "testutil/testutil.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline::testing {

// The file's text, or "" when it cannot be read.
inline std::string FileText(const std::string& path) {
  auto r = ReadFile(path);
  return r.ok() ? *r : std::string();
}

// `pipeline serve` as a child process, stopped (SIGTERM) when this goes away.
class ServeProcess {
 public:
  ServeProcess() = default;
  ~ServeProcess() { Stop(); }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // Starts `pipeline serve --listen <host>:0` in cwd; waits (up to 30 s) for
  // the port file. Returns "" or why it did not start.
  std::string Start(const std::string& cwd, const std::string& host = "127.0.0.1",
                    std::vector<std::string> extra = {}) {
    port_file_ = cwd + "/.serve-port-" + std::to_string(getpid()) + "-" + std::to_string(++starts_);
    log_ = port_file_ + ".log";
    SpawnOptions o;
    o.argv = {PipelineBin(), "serve", "--listen", host + ":0", "--port-file", port_file_,
              "--parent-pid", std::to_string(getpid())};
    for (auto& a : extra) o.argv.push_back(a);
    o.cwd = cwd;
    o.env_unset = {"PIPELINE_ROOT"};
    o.stdout_mode = SpawnOptions::Out::kFile;
    o.stderr_mode = SpawnOptions::Out::kFile;
    o.stdout_path = log_;
    o.stderr_path = log_;
    auto p = Spawn(o);
    if (!p.ok()) return p.error().message;
    pid_ = p->pid;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto text = ReadFile(port_file_);
      if (text.ok() && !Trim(*text).empty()) {
        port_ = static_cast<int>(ParseInt64(Trim(*text)).value_or(0));
        return port_ > 0 ? "" : "bad port file";
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return "pipeline serve exited: " + FileText(log_);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "pipeline serve did not report its port within 30 s";
  }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return FileText(log_); }
  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30, 0);
    c.set_tcp_nodelay(true);
    return c;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int starts_ = 0;
  std::string port_file_, log_;
};

// The headers a same-site page sends with a write.
inline httplib::Headers WriteHeaders() { return {{"X-Pipeline-Request", "1"}}; }

inline nlohmann::json ParseJson(const std::string& s) { return nlohmann::json::parse(s, nullptr, false); }

}  // namespace pipeline::testing
