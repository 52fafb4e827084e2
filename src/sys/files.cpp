#include "oomkit/sys/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace oomkit::sys {
namespace {

constexpr size_t kReadChunk = 4096;

// Reads fd to EOF into buffer; returns 0 or an errno.
int readAll(int fd, std::string& buffer) {
  buffer.clear();
  size_t used = 0;
  for (;;) {
    if (buffer.size() < used + kReadChunk) buffer.resize(used + kReadChunk);
    const ssize_t n = ::read(fd, buffer.data() + used, buffer.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  buffer.resize(used);
  return 0;
}

Status readOpened(int fd, std::string& buffer, std::string_view display_path) {
  if (fd < 0) return Unexpected(systemError(display_path, errno));
  const int err = readAll(fd, buffer);
  ::close(fd);
  if (err != 0) return Unexpected(systemError(display_path, err));
  return Ok{};
}

}  // namespace

Errc errcFromErrno(int err) {
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

Error systemError(std::string_view path, int err) {
  return Error{errcFromErrno(err), std::string(path) + ": " + std::strerror(err), err};
}

Result<std::string> readFile(const std::string& path) {
  std::string buffer;
  auto status = readOpened(::open(path.c_str(), O_RDONLY | O_CLOEXEC), buffer, path);
  if (!status) return Unexpected(status.error());
  return buffer;
}

Status readFileAt(int dirfd, const char* name, std::string& buffer, std::string_view display_path) {
  return readOpened(::openat(dirfd, name, O_RDONLY | O_CLOEXEC), buffer, display_path);
}

Status writeFile(const std::string& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Unexpected(systemError(path, errno));
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int err = n < 0 ? errno : 0;
  ::close(fd);
  if (n < 0) return Unexpected(systemError(path, err));
  if (static_cast<size_t>(n) != text.size()) {
    return makeError(Errc::kIo, path + ": short write");
  }
  return Ok{};
}

Result<std::vector<std::string>> listDirectory(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return Unexpected(systemError(path, errno));
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(dir);
  return names;
}

Status forEachLineOfFd(int fd, std::string_view display_path,
                       const std::function<void(std::string_view)>& on_line) {
  constexpr size_t kChunk = 1 << 20;
  std::string pending;  // a line cut by the chunk boundary
  std::string chunk(kChunk, '\0');
  for (;;) {
    const ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Unexpected(systemError(display_path, errno));
    if (n == 0) break;
    std::string_view data(chunk.data(), static_cast<size_t>(n));
    size_t nl;
    while ((nl = data.find('\n')) != std::string_view::npos) {
      if (pending.empty()) {
        on_line(data.substr(0, nl));
      } else {
        pending.append(data.substr(0, nl));
        on_line(pending);
        pending.clear();
      }
      data.remove_prefix(nl + 1);
    }
    pending.append(data);
  }
  if (!pending.empty()) on_line(pending);
  return Ok{};
}

bool pathExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

Result<PolledFile> PolledFile::open(std::string path, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unexpected(systemError(path, errno));
  return PolledFile(std::move(path), fd, max_bytes);
}

// One byte more than the caller's maximum, so that a file that fills it is known to be longer.
PolledFile::PolledFile(std::string path, int fd, size_t max_bytes)
    : path_(std::move(path)),
      fd_(fd),
      buffer_(std::make_unique_for_overwrite<char[]>(max_bytes + 1)),
      capacity_(max_bytes + 1) {}

PolledFile::PolledFile(PolledFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      buffer_(std::move(other.buffer_)),
      capacity_(std::exchange(other.capacity_, 0)) {}

PolledFile& PolledFile::operator=(PolledFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

PolledFile::~PolledFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::string_view> PolledFile::read() {
  ssize_t n = -1;
  do {
    n = ::pread(fd_, buffer_.get(), capacity_, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Unexpected(systemError(path_, errno));
  if (static_cast<size_t>(n) == capacity_) {
    return makeError(Errc::kIo, path_ + ": longer than the " + std::to_string(capacity_ - 1) +
                                    " bytes expected");
  }
  return std::string_view(buffer_.get(), static_cast<size_t>(n));
}

}  // namespace oomkit::sys
