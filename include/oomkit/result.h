// oomkit/result.h — the error vocabulary of the whole library.
//
// Result<T> holds a T or an Error. Its members are the subset of C++23's std::expected we use
// (has_value, value, error, value_or, operator*, operator->), so that once the toolchain is
// C++23 this becomes `template <class T> using Result = std::expected<T, Error>;`.
// Callers branch on Error::code, never on message text. A process that vanished is
// Errc::kNotFound: a normal outcome that callers skip and count, not a failure.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace oomkit {

enum class Errc {
  kNotFound,          // path or pid vanished (often a benign race: the process exited)
  kPermissionDenied,  // EACCES/EPERM
  kParse,             // text did not match the kernel format we expect
  kInvalidArgument,   // the caller's or the user's mistake
  kUnavailable,       // the kernel lacks the feature (no memory controller, no pidfd, ...)
  kIo,                // any other system failure; see Error::sys_errno
};

// A short name for an Errc, for messages and JSON ("not found", "parse", ...).
constexpr std::string_view errcName(Errc code) {
  switch (code) {
    case Errc::kNotFound:
      return "not found";
    case Errc::kPermissionDenied:
      return "permission denied";
    case Errc::kParse:
      return "parse error";
    case Errc::kInvalidArgument:
      return "invalid argument";
    case Errc::kUnavailable:
      return "unavailable";
    case Errc::kIo:
      return "I/O error";
  }
  return "unknown";
}

struct Error {
  Errc code = Errc::kIo;
  std::string message;  // context from the outermost caller inwards: "a: b: c"
  int sys_errno = 0;    // 0 unless a system call failed

  // Returns this error with `context` prepended: "reading /proc/1/stat: <message>".
  [[nodiscard]] Error wrap(std::string_view context) const {
    return Error{code, std::string(context) + ": " + message, sys_errno};
  }
};

// Mirrors std::unexpected: `return Unexpected(Error{...});`
struct Unexpected {
  explicit Unexpected(Error e) : error(std::move(e)) {}
  Error error;
};

inline Unexpected makeError(Errc code, std::string message, int sys_errno = 0) {
  return Unexpected(Error{code, std::move(message), sys_errno});
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}         // NOLINT: implicit
  Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT: implicit

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }
  T value_or(T fallback) const& { return has_value() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success carries nothing.
struct Ok {};
using Status = Result<Ok>;

}  // namespace oomkit
