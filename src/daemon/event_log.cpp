#include "oomkit/daemon/event_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "oomkit/sys/files.h"

namespace oomkit::daemon {

Result<EventLog> EventLog::open(const std::string& path) {
  if (path == "-") return EventLog(STDOUT_FILENO, false, path);
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return Unexpected(sys::systemError(path, errno));
  return EventLog(fd, true, path);
}

EventLog::EventLog(EventLog&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), owned_(other.owned_), path_(std::move(other.path_)) {}

EventLog& EventLog::operator=(EventLog&& other) noexcept {
  if (this != &other) {
    if (owned_ && fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    owned_ = other.owned_;
    path_ = std::move(other.path_);
  }
  return *this;
}

EventLog::~EventLog() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

Status EventLog::write(const std::string& line) {
  std::string out = line;
  out += '\n';
  const ssize_t n = ::write(fd_, out.data(), out.size());
  if (n < 0) return Unexpected(sys::systemError(path_, errno));
  if (static_cast<size_t>(n) != out.size()) return makeError(Errc::kIo, path_ + ": short write");
  return Ok{};
}

}  // namespace oomkit::daemon
