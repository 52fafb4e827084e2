#include "support/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace oomkit::test {
namespace {

Errc errcFor(int err) {
  switch (err) {
    case ENOENT:
    case ESRCH:
      return Errc::kNotFound;
    case EACCES:
    case EPERM:
      return Errc::kPermissionDenied;
    case EINVAL:
      return Errc::kInvalidArgument;
    default:
      return Errc::kIo;
  }
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

Error sysError(std::string_view what, const std::string& path, int err) {
  return Error{errcFor(err), std::string(what) + " " + path + ": " + std::strerror(err), err};
}

Result<std::string> readFile(const std::string& path) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Unexpected(sysError("open", path, errno));
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Unexpected(sysError("read", path, errno));
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
  }
}

Status writeFile(const std::string& path, std::string_view text) {
  Fd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0) return Unexpected(sysError("open", path, errno));
  ssize_t n = write(fd.get(), text.data(), text.size());
  if (n < 0) return Unexpected(sysError("write", path, errno));
  if (static_cast<size_t>(n) != text.size()) {
    return makeError(Errc::kIo, "short write to " + path);
  }
  return Ok{};
}

bool fileExists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

std::vector<std::string> splitLines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    lines.emplace_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

std::optional<uint64_t> parseUint(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::optional<uint64_t> keyedValue(std::string_view text, std::string_view key) {
  for (const std::string& line : splitLines(text)) {
    std::string_view l = line;
    if (l.size() <= key.size() || l.substr(0, key.size()) != key || l[key.size()] != ' ') continue;
    return parseUint(l.substr(key.size() + 1));
  }
  return std::nullopt;
}

}  // namespace oomkit::test
