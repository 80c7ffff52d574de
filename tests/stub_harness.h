// Runs `pipeline model-stub` as a child for a test: picks a free port (the
// stub writes it to a port file), and stops the stub at the end of scope.
// Header-only because every tests/*_test.cc links into one binary.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "proc/process.h"
#include "testutil/testutil.h"
#include "util/files.h"
#include "util/text.h"

namespace pipeline::testing {

class StubProcess {
 public:
  // Starts the stub on `scenario_path`; check ok() (and error()) after.
  StubProcess(const std::string& scenario_path, const std::string& dir) {
    port_file_ = dir + "/stub.port";
    log_path_ = dir + "/stub.log";
    err_path_ = dir + "/stub.err";
    SpawnOptions o;
    o.argv = {PipelineBin(), "model-stub", "--scenario", scenario_path, "--port", "0",
              "--port-file", port_file_, "--log", log_path_};
    o.stderr_mode = SpawnOptions::Out::kFile;
    o.stderr_path = err_path_;
    auto p = Spawn(o);
    if (!p.ok()) {
      error_ = p.message();
      return;
    }
    pid_ = p->pid;
    for (int i = 0; i < 500 && port_ == 0; ++i) {  // up to ~10 s on a loaded machine
      auto text = ReadFile(port_file_);
      if (text.ok()) {
        if (auto n = ParseInt64(Trim(*text))) port_ = static_cast<int>(*n);
      }
      if (port_ == 0) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          error_ = "model-stub exited: " + ReadTextFile(err_path_);
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    if (port_ == 0) error_ = "model-stub wrote no port file";
  }
  ~StubProcess() { Stop(); }
  StubProcess(const StubProcess&) = delete;

  bool ok() const { return port_ != 0; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The JSON lines the stub logged, one per request.
  std::string log() const { return ReadTextFile(log_path_); }

  // SIGTERM, then the exit code (-1 if it had to be killed).
  int Stop() {
    if (pid_ <= 0) return exit_code_;
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 250; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return exit_code_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return exit_code_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_code_ = -1;
  std::string port_file_, log_path_, err_path_, error_;
};

}  // namespace pipeline::testing
