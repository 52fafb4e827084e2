// support/file_io.h — small file helpers for test support code: read a whole /proc or cgroup
// file, write a control file in one write(2), split lines, and parse "key value" files such as
// memory.oom_control and memory.events. Every fallible helper returns oomkit::Result with the
// path in the message; a missing file is Errc::kNotFound.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oomkit/core/text.h"
#include "oomkit/result.h"
#include "oomkit/sys/files.h"

namespace oomkit::test {

// Whole-file reads and single-write(2) writes are the library's own (oomkit/sys/files.h).
using sys::readFile;
using sys::writeFile;
inline bool fileExists(const std::string& path) {
  return sys::pathExists(path);
}
// Lines without their '\n'; a trailing newline does not add an empty line.
std::vector<std::string> splitLines(std::string_view text);
// A decimal number, allowing surrounding whitespace ("123\n"); nullopt if anything else.
std::optional<uint64_t> parseUint(std::string_view text);
// "key N" files (memory.oom_control, memory.events): the library's parser.
using core::findKeyedValue;
// The error for a failed system call on `path`: Errc from errno, message "what path: strerror".
Error sysError(std::string_view what, const std::string& path, int err);

}  // namespace oomkit::test
