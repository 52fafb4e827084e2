// oomkit/sys/files.h — reading and writing the kernel's small text files.
//
// procfs and cgroupfs files are generated on read and fit in a page or two; these helpers
// read them whole with open/read/close (no stdio, no iostreams) and map errno to Errc:
// ENOENT/ESRCH → kNotFound (the process or cgroup went away: a normal outcome),
// EACCES/EPERM → kPermissionDenied, anything else → kIo. Thread-safe (no shared state).
#pragma once

#include <functional>
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

}  // namespace oomkit::sys
