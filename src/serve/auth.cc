#include "serve/auth.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/files.h"
#include "util/text.h"

namespace pipeline::serve {

bool IsLoopbackAddress(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  // 127.0.0.0/8 as an address, not a name that merely starts with "127.".
  struct in_addr a {};
  return inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

bool SameSecret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

namespace {

// "host" or "host:port" or "[v6]:port" -> host.
std::string HostPart(const std::string& h) {
  if (!h.empty() && h[0] == '[') {
    size_t end = h.find(']');
    return end == std::string::npos ? h : h.substr(0, end + 1);
  }
  size_t colon = h.rfind(':');
  return colon == std::string::npos ? h : h.substr(0, colon);
}

}  // namespace

Status CheckRequest(const AuthPolicy& p, const RequestFacts& r) {
  if (p.loopback) {
    std::string host = HostPart(r.host_header);
    if (!IsLoopbackAddress(host) && host != p.host)
      return Refused("forbidden: Host " + Quoted(r.host_header) + " is not this server");
  }
  const std::string bearer = "Bearer ";
  bool header_token = StartsWith(r.authorization, bearer) &&
                      SameSecret(r.authorization.substr(bearer.size()), p.token);
  bool query_token = !r.query_token.empty() && SameSecret(r.query_token, p.token);
  if (!p.loopback) {
    if (r.write ? !header_token : !(header_token || query_token))
      return Refused("unauthorized: send Authorization: Bearer <token> (the token is in .pipeline/serve-token)");
    return Status::Ok();
  }
  if (r.write && !header_token && r.custom_header != "1")
    return Refused("forbidden: a write needs the header X-Pipeline-Request: 1 or the token");
  return Status::Ok();
}

Result<std::string> LoadOrCreateToken(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) {
    if (st.st_mode & 077) return Refused(path + " is readable by others; chmod 600 it");
    PL_ASSIGN_OR_RETURN(std::string t, ReadFile(path));
    t = Trim(t);
    if (t.size() < 32) return Refused(path + " holds no usable token (delete it to make a new one)");
    return t;
  }
  unsigned char raw[32];
  if (getrandom(raw, sizeof raw, 0) != static_cast<ssize_t>(sizeof raw))
    return IOError(std::string("getrandom: ") + strerror(errno));
  static const char* kHex = "0123456789abcdef";
  std::string token;
  for (unsigned char b : raw) {
    token.push_back(kHex[b >> 4]);
    token.push_back(kHex[b & 15]);
  }
  // O_EXCL: two servers starting at once agree on the first one's token.
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return LoadOrCreateToken(path);
    return IOError("cannot create " + path + ": " + strerror(errno));
  }
  std::string line = token + "\n";
  bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && fsync(fd) == 0;
  close(fd);
  if (!ok) return IOError("cannot write " + path);
  return token;
}

}  // namespace pipeline::serve
