// oomkit/sys/scope_memory.h — how much memory an OOM scope has and how much of it is still
// available, the quantity its watermarks are about (docs/config.md "[scope.watermarks]").
//
// Global scope: total = MemTotal + SwapTotal, available = MemAvailable + SwapFree (as earlyoom
// counts; MemFree + Buffers + Cached before 3.14, which had no MemAvailable). A memory cgroup:
// every limited cgroup from it up to the hierarchy's top binds (the kernel charges the whole
// chain, mm/page_counter.c), so available = the smallest (limit - usage) along the chain, and
// total = the limit of the cgroup that gives that minimum. Limits are v2 memory.max, v1
// memory.limit_in_bytes; usage v2 memory.current, v1 memory.usage_in_bytes. Not thread-safe
// (uses the ProcReader).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "oomkit/core/procfs.h"
#include "oomkit/result.h"
#include "oomkit/sys/cgroups.h"
#include "oomkit/sys/proc_reader.h"

namespace oomkit::sys {

struct ScopeMemory {
  uint64_t total_bytes = 0;
  uint64_t available_bytes = 0;  // never above total_bytes
  uint64_t usage_bytes = 0;      // total - available for the binding level
  std::string binding_cgroup;    // the cgroup whose limit binds ("" for the global scope)
};

// The global scope's memory from /proc/meminfo's numbers (see above).
ScopeMemory machineScopeMemory(const core::MemInfo& meminfo);

// `cgroup` as /proc/PID/cgroup shows it; none = global. Errc::kNotFound when the cgroup does not
// exist, kInvalidArgument when no cgroup on its chain has a limit (nothing binds but the
// machine: use the global scope), kUnavailable without a memory hierarchy for a cgroup.
Result<ScopeMemory> readScopeMemory(ProcReader& proc, const std::optional<MemoryHierarchy>& memory,
                                    const std::optional<std::string>& cgroup);

}  // namespace oomkit::sys
