// oomkit/daemon/event_log.h — the daemon's event log: one JSON object per line, appended to
// a file (created if missing, O_APPEND so that several writers never interleave within a
// line) or written to standard output ("-"). Each line goes out in one write(2).
#pragma once

#include <string>

#include "oomkit/result.h"

namespace oomkit::daemon {

class EventLog {
 public:
  static Result<EventLog> open(const std::string& path);
  EventLog(EventLog&& other) noexcept;
  EventLog& operator=(EventLog&& other) noexcept;
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  ~EventLog();

  // Appends `line` and a newline. A failed write is returned (the daemon logs it and goes on).
  Status write(const std::string& line);
  const std::string& path() const { return path_; }

 private:
  EventLog(int fd, bool owned, std::string path) : fd_(fd), owned_(owned), path_(std::move(path)) {}
  int fd_ = -1;
  bool owned_ = false;
  std::string path_;
};

}  // namespace oomkit::daemon
