#include "oomkit/sys/scope_memory.h"

#include <algorithm>

#include "oomkit/core/cgroup_memory.h"
#include "oomkit/sys/files.h"
#include "oomkit/sys/scope_usage.h"

namespace oomkit::sys {
namespace {

constexpr uint64_t kKiB = 1024;

Result<ScopeMemory> machineMemory(ProcReader& proc) {
  auto meminfo = proc.readMemInfo();
  if (!meminfo) return Unexpected(meminfo.error());
  return machineScopeMemory(*meminfo);
}

// The level's effective limit: memory.max, or on v2 memory.high where it is lower — above
// memory.high the kernel throttles and reclaims the cgroup hard (cgroup-v2.rst), which is the
// stall oomkit is there to prevent, so the watermarks are measured against it.
Result<std::optional<uint64_t>> effectiveLimit(const MemoryHierarchy& hierarchy,
                                               const core::MemcgLimits& level,
                                               const std::string& dir) {
  std::optional<uint64_t> limit = level.memory;
  const std::string high_file = dir + "/memory.high";
  if (hierarchy.version == core::CgroupVersion::kV2 && pathExists(high_file)) {
    auto high = readParsedFile(high_file, core::parseV2Limit);
    if (!high) return Unexpected(high.error());
    if (*high && (!limit || **high < *limit)) limit = *high;
  }
  return limit;
}

Result<ScopeMemory> cgroupMemory(ProcReader& proc, const MemoryHierarchy& hierarchy,
                                 const std::string& cgroup) {
  auto swappiness = proc.readVmSwappiness();
  auto chain = readMemcgChain(hierarchy, cgroup, swappiness.value_or(60));
  if (!chain) return Unexpected(chain.error());
  std::optional<ScopeMemory> tightest;
  for (const auto& level : *chain) {
    const auto dir = hierarchy.dirOf(level.path);
    if (!dir) continue;
    auto effective = effectiveLimit(hierarchy, level, *dir);
    if (!effective) return Unexpected(effective.error());
    if (!*effective) {
      if (!level.use_hierarchy) break;
      continue;  // unlimited: this level does not bind
    }
    auto usage = readScopeUsage(proc, *dir);
    if (!usage) return Unexpected(usage.error().wrap("usage of cgroup " + level.path));
    const uint64_t limit = **effective;
    const uint64_t available = limit > *usage ? limit - *usage : 0;
    if (!tightest || available < tightest->available_bytes) {
      tightest = ScopeMemory{limit, available, limit - available, level.path};
    }
    if (!level.use_hierarchy) break;  // v1 use_hierarchy=0 cuts the chain above this level
  }
  if (!tightest) {
    return makeError(Errc::kInvalidArgument,
                     "no memory limit applies to cgroup " + cgroup +
                         " or its ancestors: only the machine's memory binds it");
  }
  return *tightest;
}

}  // namespace

ScopeMemory machineScopeMemory(const core::MemInfo& meminfo) {
  // Before 3.14 there is no MemAvailable; MemFree is the conservative stand-in.
  const uint64_t ram_available_kb = meminfo.mem_available_kb.value_or(meminfo.mem_free_kb);
  ScopeMemory memory;
  memory.total_bytes = (meminfo.mem_total_kb + meminfo.swap_total_kb) * kKiB;
  memory.available_bytes =
      std::min(memory.total_bytes, (ram_available_kb + meminfo.swap_free_kb) * kKiB);
  memory.usage_bytes = memory.total_bytes - memory.available_bytes;
  return memory;
}

Result<ScopeMemory> readScopeMemory(ProcReader& proc, const std::optional<MemoryHierarchy>& memory,
                                    const std::optional<std::string>& cgroup) {
  if (!cgroup || *cgroup == "/") return machineMemory(proc);
  if (!memory) {
    return makeError(Errc::kUnavailable, "no memory cgroup hierarchy to read " + *cgroup + " from");
  }
  return cgroupMemory(proc, *memory, *cgroup);
}

}  // namespace oomkit::sys
