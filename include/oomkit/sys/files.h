// oomkit/sys/files.h — reading and writing the kernel's small text files.
//
// procfs and cgroupfs files are generated on read and fit in a page or two; these helpers
// read them whole with open/read/close (no stdio, no iostreams) and map errno to Errc:
// ENOENT/ESRCH → kNotFound (the process or cgroup went away: a normal outcome),
// EACCES/EPERM → kPermissionDenied, anything else → kIo. Thread-safe (no shared state).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "oomkit/result.h"

namespace oomkit::sys {

Errc errcFromErrno(int err);

// An Error for a failed system call on `path`: "<path>: <strerror>".
Error systemError(std::string_view path, int err);

// The whole file at `path`.
Result<std::string> readFile(const std::string& path);

// The whole file `name` relative to the directory fd `dirfd`, into `buffer` (reused across
// calls to avoid allocating per file on hot scans). `display_path` names it in errors.
Status readFileAt(int dirfd, const char* name, std::string& buffer, std::string_view display_path);

// Writes `text` to an existing file in one write() (cgroup and proc files want that).
Status writeFile(const std::string& path, std::string_view text);

// The names in a directory, without "." and "..".
Result<std::vector<std::string>> listDirectory(const std::string& path);

// Reads `path` whole and parses it with `parse` (text -> Result<T>); a parse error is wrapped
// with the path, so that the message says which file was malformed.
template <typename Parse>
auto readParsedFile(const std::string& path, Parse parse) -> decltype(parse(std::string_view{})) {
  auto text = readFile(path);
  if (!text) return Unexpected(text.error());
  auto value = parse(*text);
  if (!value) return Unexpected(value.error().wrap(path));
  return value;
}

// Reads `fd` to its end in large chunks and calls `on_line` with each line, without its '\n'
// (the last line may lack one). For logs of any size: memory stays bounded by the longest
// line. `display_path` names the input in errors.
Status forEachLineOfFd(int fd, std::string_view display_path,
                       const std::function<void(std::string_view)>& on_line);

// True iff `path` exists (any file type).
bool pathExists(const std::string& path);

// A file read again and again from its start through one descriptor kept open: procfs and
// cgroup files regenerate their text on each read, so one pread() per poll replaces
// open/read/read/close, into a buffer sized once (a poll allocates nothing). For the
// daemon's samplers (/proc/meminfo, memory.usage_in_bytes) and kernel counters (/proc/vmstat).
class PolledFile {
 public:
  // `max_bytes`: the most a read returns (the buffer's size); a longer file is an error.
  static Result<PolledFile> open(std::string path, size_t max_bytes);
  PolledFile(PolledFile&& other) noexcept;
  PolledFile& operator=(PolledFile&& other) noexcept;
  PolledFile(const PolledFile&) = delete;
  PolledFile& operator=(const PolledFile&) = delete;
  ~PolledFile();

  // The whole file now; the view lives until the next read. Errc::kIo if it filled the buffer.
  Result<std::string_view> read();
  const std::string& path() const { return path_; }

 private:
  PolledFile(std::string path, int fd, size_t max_bytes);

  std::string path_;
  int fd_ = -1;
  // Left uninitialised: a page of it becomes resident only when a read reaches it, so a
  // generous maximum (64 KiB for /proc/vmstat's ~5) costs the daemon nothing.
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
};

}  // namespace oomkit::sys
