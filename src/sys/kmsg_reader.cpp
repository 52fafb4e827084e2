#include "oomkit/sys/kmsg_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

// printk's records are at most about 1 KiB of text plus the dictionary; the kernel returns
// EINVAL when the buffer is too small for one record, so take a generous one.
constexpr size_t kRecordBuffer = 16384;

}  // namespace

Result<KmsgReader> KmsgReader::open(const std::string& path, Start start) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Unexpected(systemError(path, errno));
  if (start == Start::kNow && ::lseek(fd, 0, SEEK_END) < 0) {
    const int err = errno;
    ::close(fd);
    return Unexpected(systemError(path + " (seek to end)", err));
  }
  return KmsgReader(fd);
}

KmsgReader::KmsgReader(KmsgReader&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), overwritten_(other.overwritten_) {}

KmsgReader& KmsgReader::operator=(KmsgReader&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    overwritten_ = other.overwritten_;
  }
  return *this;
}

KmsgReader::~KmsgReader() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::optional<std::string>> KmsgReader::next() {
  buffer_.resize(kRecordBuffer);
  for (;;) {
    const ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
    if (n == 0) return std::optional<std::string>();  // a plain file (replay, tests) at its end
    if (n > 0) {
      std::string_view record(buffer_.data(), static_cast<size_t>(n));
      const size_t nl = record.find('\n');
      return std::optional<std::string>(std::string(record.substr(0, nl)));
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return std::optional<std::string>();
    if (errno == EPIPE) {
      ++overwritten_;  // the next read() returns the oldest record still in the buffer
      continue;
    }
    return Unexpected(systemError("/dev/kmsg", errno));
  }
}

}  // namespace oomkit::sys
