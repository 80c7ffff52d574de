// Errors as values at module boundaries (after leveldb's Status and ccache's
// expected). An Error carries a kind, so callers can tell "not found" from
// "refused" from "timed out", and a one-line message fit for a user.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace pipeline {

enum class ErrorKind {
  kInvalidArgument,  // bad input from the user: usage error, exit 2
  kNotFound,         // unknown id, missing store: exit 1
  kRefused,          // valid request the state does not allow (CAS failed, cycle): exit 1
  kConflict,         // lost a race or a merge conflict: exit 1
  kTimeout,          // a deadline passed; retried differently from other failures
  kIO,               // the OS or SQLite failed
  kUnavailable,      // a dependency is absent or down
};

struct Error {
  ErrorKind kind = ErrorKind::kIO;
  std::string message;
};

// Exit code for the CLI: 2 usage, 1 everything else.
int ExitCodeFor(ErrorKind kind);
const char* ErrorKindName(ErrorKind kind);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error e) : error_(std::move(e)) {}  // NOLINT: implicit on purpose
  static Status Ok() { return Status(); }
  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }
  const std::string& message() const { return error_->message; }
  ErrorKind kind() const { return error_->kind; }

 private:
  std::optional<Error> error_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT
  Result(Error e) : v_(std::move(e)) {}      // NOLINT
  Result(Status s) : v_(s.error()) {}        // REQUIRES: !s.ok()
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }
  const std::string& message() const { return error().message; }
  ErrorKind kind() const { return error().kind; }
  Status status() const { return ok() ? Status() : Status(error()); }

 private:
  std::variant<T, Error> v_;
};

inline Error InvalidArgument(std::string m) { return {ErrorKind::kInvalidArgument, std::move(m)}; }
inline Error NotFound(std::string m) { return {ErrorKind::kNotFound, std::move(m)}; }
inline Error Refused(std::string m) { return {ErrorKind::kRefused, std::move(m)}; }
inline Error Conflict(std::string m) { return {ErrorKind::kConflict, std::move(m)}; }
inline Error TimedOut(std::string m) { return {ErrorKind::kTimeout, std::move(m)}; }
inline Error IOError(std::string m) { return {ErrorKind::kIO, std::move(m)}; }
inline Error Unavailable(std::string m) { return {ErrorKind::kUnavailable, std::move(m)}; }

// Propagate a failed Status or Result from the current function.
#define PL_RETURN_IF_ERROR(expr)             \
  do {                                       \
    auto _st = (expr);                       \
    if (!_st.ok()) return _st.error();       \
  } while (0)

#define PL_CONCAT_INNER(a, b) a##b
#define PL_CONCAT(a, b) PL_CONCAT_INNER(a, b)
#define PL_ASSIGN_OR_RETURN(lhs, expr) PL_ASSIGN_OR_RETURN_IMPL(PL_CONCAT(_res_, __LINE__), lhs, expr)
#define PL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.error();             \
  lhs = std::move(tmp).value()

}  // namespace pipeline
