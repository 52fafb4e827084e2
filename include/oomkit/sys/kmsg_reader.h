// oomkit/sys/kmsg_reader.h — non-blocking reader of the kernel log, /dev/kmsg.
//
// Format: Documentation/ABI/testing/dev-kmsg. Each read() returns exactly one record,
// "prio,seq,usec,flags[,extra];text\n" followed by optional " KEY=value" dictionary lines;
// EAGAIN when no record is waiting (O_NONBLOCK); EPIPE when the ring buffer overwrote records
// this reader had not read yet — the position then moves to the oldest record still there,
// and reading goes on. Not thread-safe; one reader per consumer (readers share no state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "oomkit/result.h"

namespace oomkit::sys {

class KmsgReader {
 public:
  enum class Start { kNow, kBeginning };

  // Opens `path` (normally /dev/kmsg) non-blocking; kNow skips what is already logged.
  static Result<KmsgReader> open(const std::string& path, Start start);
  KmsgReader(KmsgReader&& other) noexcept;
  KmsgReader& operator=(KmsgReader&& other) noexcept;
  KmsgReader(const KmsgReader&) = delete;
  KmsgReader& operator=(const KmsgReader&) = delete;
  ~KmsgReader();

  // For epoll/poll: readable (POLLIN) when a record is waiting.
  int fd() const { return fd_; }

  // The next record's first line ("prio,seq,usec,flags;text", without the dictionary lines
  // and the '\n'), or nullopt when none is waiting. EPIPE is counted and skipped.
  Result<std::optional<std::string>> next();

  // Records lost to ring-buffer overwrites (EPIPE) so far.
  uint64_t overwritten() const { return overwritten_; }

 private:
  explicit KmsgReader(int fd) : fd_(fd) {}

  int fd_ = -1;
  uint64_t overwritten_ = 0;
  std::string buffer_;
};

}  // namespace oomkit::sys
