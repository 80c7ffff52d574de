#include "sandbox/run_channel.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "util/files.h"

namespace pipeline {
namespace {

constexpr size_t kMaxMessage = 1 << 20;
constexpr int kIoTimeoutMs = 2000;

// sun_path holds 108 bytes; a long path is reached through its directory's
// descriptor: /proc/self/fd/N/NAME.
struct ShortPath {
  int dir_fd = -1;
  std::string path;
  ~ShortPath() {
    if (dir_fd >= 0) close(dir_fd);
  }
};

Result<std::unique_ptr<ShortPath>> Shorten(const std::string& path) {
  auto sp = std::make_unique<ShortPath>();
  if (path.size() < sizeof(sockaddr_un::sun_path)) {
    sp->path = path;
    return sp;
  }
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  sp->dir_fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (sp->dir_fd < 0) return IOError("cannot open " + dir + ": " + strerror(errno));
  sp->path = "/proc/self/fd/" + std::to_string(sp->dir_fd) + "/" + path.substr(slash + 1);
  if (sp->path.size() >= sizeof(sockaddr_un::sun_path)) return InvalidArgument("socket name too long: " + path);
  return sp;
}

sockaddr_un Address(const std::string& p) {
  sockaddr_un a = {};
  a.sun_family = AF_UNIX;
  memcpy(a.sun_path, p.c_str(), p.size() + 1);
  return a;
}

bool WaitFd(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  int rc;
  do rc = poll(&p, 1, kIoTimeoutMs);
  while (rc < 0 && errno == EINTR);
  return rc > 0;
}

bool WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    if (!WaitFd(fd, POLLOUT)) return false;
    ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::optional<std::string> ReadLine(int fd) {
  std::string buf;
  char chunk[4096];
  while (buf.find('\n') == std::string::npos) {
    if (buf.size() > kMaxMessage || !WaitFd(fd, POLLIN)) return std::nullopt;
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
  }
  size_t nl = buf.find('\n');
  if (nl == std::string::npos) return std::nullopt;
  return buf.substr(0, nl);
}

}  // namespace

RunChannelServer::~RunChannelServer() {
  if (fd_ >= 0) close(fd_);
  if (!path_.empty()) unlink(path_.c_str());
}

Status RunChannelServer::Listen(const std::string& path) {
  PL_ASSIGN_OR_RETURN(auto sp, Shorten(path));
  unlink(path.c_str());
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) return IOError(std::string("socket: ") + strerror(errno));
  sockaddr_un a = Address(sp->path);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd_, 16) != 0)
    return IOError("cannot listen on " + path + ": " + strerror(errno));
  path_ = path;
  return Status::Ok();
}

void RunChannelServer::ServePending(const Handler& handler) {
  while (true) {
    int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) return;
    nlohmann::json reply;
    auto line = ReadLine(c);
    if (!line) {
      reply = {{"ok", false}, {"error", "unreadable request"}};
    } else {
      auto req = nlohmann::json::parse(*line, nullptr, /*allow_exceptions=*/false);
      reply = req.is_object() ? handler(req) : nlohmann::json{{"ok", false}, {"error", "malformed request"}};
    }
    WriteAll(c, reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    close(c);
  }
}

Result<nlohmann::json> AskRunChannel(const std::string& path, const nlohmann::json& request) {
  PL_ASSIGN_OR_RETURN(auto sp, Shorten(path));
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return IOError(std::string("socket: ") + strerror(errno));
  sockaddr_un a = Address(sp->path);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    int e = errno;
    close(fd);
    return Unavailable("cannot reach the run's monitor at " + path + ": " + strerror(e));
  }
  bool sent = WriteAll(fd, request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  auto line = sent ? ReadLine(fd) : std::nullopt;
  close(fd);
  if (!line) return IOError("no answer from the run's monitor");
  auto reply = nlohmann::json::parse(*line, nullptr, false);
  if (!reply.is_object()) return IOError("malformed answer from the run's monitor");
  return reply;
}

}  // namespace pipeline
