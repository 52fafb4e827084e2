// oomkit/core/memcg_events.h — parsers for the memory cgroup files that count OOM events.
//
// v1 memory.oom_control (Documentation/admin-guide/cgroup-v1/memory.rst, "OOM Control"):
//   "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"; oom_kill appeared in 4.13
//   (8e675f7af507 "mm/oom_kill: count global and memory cgroup oom kills").
// v2 memory.events and memory.events.local (Documentation/admin-guide/cgroup-v2.rst):
//   "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n"; oom_kill since 4.13,
//   oom_group_kill since 5.17, sock_throttled in newer kernels.
// Every line is "key value" with one space and a decimal value. Keys this parser does not know
// are accepted and ignored (the kernel adds keys over time); a known key twice, a line that is
// not "key value", or a missing required key is Errc::kParse. Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "oomkit/result.h"

namespace oomkit::core {

// v1 memory.oom_control.
struct OomControlV1 {
  bool oom_kill_disable = false;     // 1: tasks at the limit wait instead of being OOM-killed
  bool under_oom = false;            // 1: some task of the cgroup waits at its limit now
  std::optional<uint64_t> oom_kill;  // tasks of this cgroup killed by the OOM killer (4.13+)
  bool operator==(const OomControlV1&) const = default;
};
// Requires oom_kill_disable and under_oom, each 0 or 1.
Result<OomControlV1> parseOomControl(std::string_view text);

// v2 memory.events (hierarchical) or memory.events.local: counts since the cgroup was made.
struct MemoryEventsV2 {
  uint64_t low = 0;                  // reclaimed below memory.low
  uint64_t high = 0;                 // throttled above memory.high
  uint64_t max = 0;                  // usage about to exceed memory.max
  uint64_t oom = 0;                  // reached the limit with the allocation about to fail (OOM)
  std::optional<uint64_t> oom_kill;  // processes killed by any OOM killer (4.13+)
  std::optional<uint64_t> oom_group_kill;  // group OOM kills (5.17+)
  bool operator==(const MemoryEventsV2&) const = default;
};
// Requires low, high, max and oom (present since memory.events appeared in 4.5).
Result<MemoryEventsV2> parseMemoryEvents(std::string_view text);

}  // namespace oomkit::core
