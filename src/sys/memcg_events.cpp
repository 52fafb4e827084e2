// MemcgOomEvents: memcg OOM notifications through a v1 eventfd on memory.oom_control
// (Documentation/admin-guide/cgroup-v1/memory.rst "OOM Control"; mm/memcontrol-v1.c
// memcg_write_event_control(), mem_cgroup_oom_register_event()) or a v2 inotify watch on
// memory.events (Documentation/admin-guide/cgroup-v2.rst; kernfs_notify() sends FS_MODIFY).
#include "oomkit/sys/memcg_events.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>

#include "oomkit/core/memcg_events.h"
#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

constexpr const char* kOomControl = "memory.oom_control";
constexpr const char* kEventControl = "cgroup.event_control";
constexpr const char* kMemoryEvents = "memory.events";

// A counter's growth; a counter that went down (it cannot, short of a new cgroup under the
// same name) counts as no growth.
uint64_t growth(uint64_t before, uint64_t now) {
  return now > before ? now - before : 0;
}

Result<core::OomControlV1> readOomControl(const std::string& path) {
  return readParsedFile(path, core::parseOomControl);
}

Result<core::MemoryEventsV2> readMemoryEvents(const std::string& path) {
  return readParsedFile(path, core::parseMemoryEvents);
}

// Writes "<eventfd> <fd of memory.oom_control>" to cgroup.event_control. The registration
// holds its own reference to memory.oom_control, so that fd is closed again here.
Status registerOomEventfd(int event_fd, const std::string& dir) {
  const std::string control = dir + "/" + kOomControl;
  const int control_fd = ::open(control.c_str(), O_RDONLY | O_CLOEXEC);
  if (control_fd < 0) return Unexpected(systemError(control, errno));
  const Status written = writeFile(dir + "/" + kEventControl,
                                   std::to_string(event_fd) + " " + std::to_string(control_fd));
  ::close(control_fd);
  return written;
}

Result<int> openV1(const std::string& dir) {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return Unexpected(systemError("eventfd for " + dir + "/" + kOomControl, errno));
  if (auto s = registerOomEventfd(fd, dir); !s) {
    ::close(fd);
    return Unexpected(s.error());
  }
  return fd;
}

Result<int> openV2(const std::string& dir) {
  const std::string events = dir + "/" + kMemoryEvents;
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return Unexpected(systemError("inotify for " + events, errno));
  if (::inotify_add_watch(fd, events.c_str(), IN_MODIFY) < 0) {
    const int err = errno;
    ::close(fd);
    return Unexpected(systemError(events, err));
  }
  return fd;
}

// Reads the eventfd's counter (signals since the last read); 0 when it was not signalled.
Result<uint64_t> drainEventfd(int fd, const std::string& display) {
  uint64_t count = 0;
  while (::read(fd, &count, sizeof count) < 0) {
    if (errno == EAGAIN) return uint64_t{0};
    if (errno != EINTR) return Unexpected(systemError(display, errno));
  }
  return count;
}

// Reads every queued inotify event; returns how many there were.
Result<uint64_t> drainInotify(int fd, const std::string& display) {
  alignas(inotify_event) char buffer[4096];
  uint64_t events = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return events;
    if (n < 0) return Unexpected(systemError(display, errno));
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      ++events;
    }
  }
}

}  // namespace

Result<MemcgOomEvents> MemcgOomEvents::open(const MemoryHierarchy& hierarchy,
                                            const std::string& cgroup) {
  auto dir = cgroupDirOf(hierarchy, cgroup);
  if (!dir) return Unexpected(dir.error());
  const bool v1 = hierarchy.version == core::CgroupVersion::kV1;
  auto fd = v1 ? openV1(*dir) : openV2(*dir);
  if (!fd) return Unexpected(fd.error());
  MemcgOomEvents events(*fd, hierarchy.version, cgroup, std::move(*dir));
  // The baseline: later deltas count from here.
  if (auto now = events.readCounters(0); !now) return Unexpected(now.error());
  return events;
}

MemcgOomEvents::MemcgOomEvents(MemcgOomEvents&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      version_(other.version_),
      cgroup_(std::move(other.cgroup_)),
      dir_(std::move(other.dir_)),
      last_(other.last_) {}

MemcgOomEvents& MemcgOomEvents::operator=(MemcgOomEvents&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    version_ = other.version_;
    cgroup_ = std::move(other.cgroup_);
    dir_ = std::move(other.dir_);
    last_ = other.last_;
  }
  return *this;
}

MemcgOomEvents::~MemcgOomEvents() {
  if (fd_ >= 0) ::close(fd_);
}

Result<MemcgEventDelta> MemcgOomEvents::onReadable() {
  auto notifications = drain();
  if (!notifications) return Unexpected(notifications.error());
  return readCounters(*notifications);
}

Result<uint64_t> MemcgOomEvents::drain() {
  if (version_ == core::CgroupVersion::kV1) {
    return drainEventfd(fd_, "eventfd for " + dir_ + "/" + kOomControl);
  }
  return drainInotify(fd_, "inotify for " + dir_ + "/" + kMemoryEvents);
}

Result<MemcgEventDelta> MemcgOomEvents::readCounters(uint64_t notifications) {
  MemcgEventDelta delta;
  delta.version = version_;
  delta.notifications = notifications;
  Counters now;
  if (version_ == core::CgroupVersion::kV1) {
    auto control = readOomControl(dir_ + "/" + kOomControl);
    if (!control) return Unexpected(control.error());
    delta.under_oom = control->under_oom;
    now.oom_kill = control->oom_kill.value_or(0);
  } else {
    auto events = readMemoryEvents(dir_ + "/" + kMemoryEvents);
    if (!events) return Unexpected(events.error());
    now = Counters{events->oom_kill.value_or(0), events->max, events->oom};
  }
  delta.oom_kill = growth(last_.oom_kill, now.oom_kill);
  delta.max = growth(last_.max, now.max);
  delta.oom = growth(last_.oom, now.oom);
  last_ = now;
  return delta;
}

}  // namespace oomkit::sys
