// oomkit/sys/memcg_events.h — the kernel telling us that a memory cgroup hit its limit or OOM.
//
// cgroup v1 (Documentation/admin-guide/cgroup-v1/memory.rst, "OOM Control"): an eventfd is
// registered by writing "<eventfd> <fd of memory.oom_control>" to the cgroup's
// cgroup.event_control. The kernel signals it when a charge fails at the limit of this cgroup
// or of one of its ANCESTORS: mem_cgroup_oom_notify(memcg) signals every listener in the
// subtree of the cgroup whose limit was hit (for_each_mem_cgroup_tree), so a listener here is
// not told about a descendant that hits a lower limit of its own. It fires before the kernel's
// OOM killer runs, or, with oom_kill_disable=1 on the cgroup whose limit was hit, when the
// tasks start waiting at the limit (under_oom then reads 1 until the OOM is resolved). It also
// fires once when the cgroup is removed; the next onReadable() then fails with Errc::kNotFound.
// "OOM notification doesn't work for the root cgroup." The kernel logs "oom_control is deprecated"
// once on first use; it is still the only memcg OOM event source where cgroup v2 has no memory
// controller.
//
// cgroup v2 (Documentation/admin-guide/cgroup-v2.rst, "memory.events"): "a value change in this
// file generates a file modified event", so an inotify IN_MODIFY watch on memory.events
// (hierarchical: it counts the cgroup's whole subtree) wakes us, and the counters are re-read
// and compared with the previous read.
//
// fd() is readable (EPOLLIN) when something happened; onReadable() drains it and returns what
// changed. Not thread-safe; one object per cgroup, driven from the event loop.
#pragma once

#include <cstdint>
#include <string>

#include "oomkit/core/scope.h"
#include "oomkit/result.h"
#include "oomkit/sys/cgroups.h"

namespace oomkit::sys {

// What happened since the previous onReadable() (or open()). Fields of the other cgroup
// version stay 0.
struct MemcgEventDelta {
  core::CgroupVersion version = core::CgroupVersion::kV1;
  // v1: eventfd signals: times the cgroup or one below it entered OOM (the kernel may signal
  // many times per OOM). v2: file modified events drained from inotify.
  uint64_t notifications = 0;
  // v1: memory.oom_control under_oom as read now: this cgroup or an ancestor is in OOM (the
  // kernel marks the whole subtree of the cgroup at its limit); with oom_kill_disable=1 its
  // tasks wait at the limit until the OOM is resolved.
  bool under_oom = false;
  // New OOM kills: v1 memory.oom_control oom_kill (this cgroup's own tasks; 0 before 4.13),
  // v2 memory.events oom_kill (its whole subtree).
  uint64_t oom_kill = 0;
  // v2 only: new memory.events max (usage about to exceed memory.max) and oom (an allocation
  // about to fail at the limit) counts.
  uint64_t max = 0;
  uint64_t oom = 0;

  // True iff the cgroup entered OOM or is in it: a v1 signal or under_oom, a v2 oom count.
  bool outOfMemory() const {
    const bool v1_signal = version == core::CgroupVersion::kV1 && notifications > 0;
    return v1_signal || under_oom || oom > 0;
  }
  bool operator==(const MemcgEventDelta&) const = default;
};

class MemcgOomEvents {
 public:
  // Starts watching `cgroup` (a path as /proc/PID/cgroup shows it) of `hierarchy`. Errors name
  // the file: kNotFound if the cgroup does not exist, kInvalidArgument if it lies outside the
  // hierarchy's mount, kPermissionDenied / kIo if registration fails.
  static Result<MemcgOomEvents> open(const MemoryHierarchy& hierarchy, const std::string& cgroup);

  MemcgOomEvents(MemcgOomEvents&& other) noexcept;
  MemcgOomEvents& operator=(MemcgOomEvents&& other) noexcept;
  MemcgOomEvents(const MemcgOomEvents&) = delete;
  MemcgOomEvents& operator=(const MemcgOomEvents&) = delete;
  ~MemcgOomEvents();  // closes the fd: the kernel then drops the registration / watch

  // The eventfd (v1) or inotify fd (v2), non-blocking, for epoll (EPOLLIN).
  int fd() const { return fd_; }
  core::CgroupVersion version() const { return version_; }
  const std::string& cgroup() const { return cgroup_; }

  // Drains fd() (never blocks) and re-reads the counters. Errc::kNotFound once the cgroup is
  // gone; kParse if its file does not read as the kernel writes it.
  Result<MemcgEventDelta> onReadable();

 private:
  struct Counters {
    uint64_t oom_kill = 0;
    uint64_t max = 0;
    uint64_t oom = 0;
  };

  MemcgOomEvents(int fd, core::CgroupVersion version, std::string cgroup, std::string dir)
      : fd_(fd), version_(version), cgroup_(std::move(cgroup)), dir_(std::move(dir)) {}
  Result<uint64_t> drain();
  Result<MemcgEventDelta> readCounters(uint64_t notifications);

  int fd_ = -1;
  core::CgroupVersion version_ = core::CgroupVersion::kV1;
  std::string cgroup_;
  std::string dir_;  // the cgroup's directory
  Counters last_;
};

}  // namespace oomkit::sys
