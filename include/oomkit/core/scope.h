// oomkit/core/scope.h — the OOM scope: the whole machine or one memory cgroup, and the
// totalpages its badness is measured against.
//
// Global: totalram_pages() + total_swap_pages (mm/oom_kill.c constrained_alloc()).
// Memcg: mem_cgroup_get_max() of the cgroup whose limit was hit (mm/memcontrol.c). A cgroup
// with no limit of its own runs out of memory only through an ancestor's limit; the kernel
// then OOMs at that ancestor and scans its whole subtree, so that is the scope we rank.
// Pure: the sys layer reads the cgroup files, this decides.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "oomkit/core/cgroup_memory.h"
#include "oomkit/core/procfs.h"
#include "oomkit/result.h"

namespace oomkit::core {

enum class CgroupVersion { kV1, kV2 };

// totalpages of a global OOM.
uint64_t globalTotalPages(const MemInfo& meminfo, uint64_t page_size_kb);

// One memory cgroup's limits, as read from its directory.
struct MemcgLimits {
  std::string path;            // as /proc/PID/cgroup shows it
  MemoryLimit memory;          // v1 memory.limit_in_bytes / v2 memory.max
  MemoryLimit swap;            // v1 memory.memsw.limit_in_bytes (memory+swap) / v2 memory.swap.max
  bool has_swap_file = false;  // v1: swap accounting on (do_memsw_account())
  bool use_hierarchy = true;   // v1 memory.use_hierarchy (always 1 since 6.x; 0 cuts the chain)
  int32_t swappiness = 60;     // v1 memory.swappiness; v2 uses vm.swappiness
};

// mem_cgroup_get_max(): the limit in pages, plus the swap the cgroup may use where
// swappiness is not 0 (capped by total_swap_pages); at least 1.
uint64_t memcgTotalPages(const MemcgLimits& limits, CgroupVersion version,
                         uint64_t total_swap_pages, uint64_t page_size_kb);

struct MemcgScope {
  std::string requested_path;
  std::string oom_path;  // the cgroup whose limit binds: requested_path or an ancestor
  uint64_t totalpages = 1;
  uint64_t limit_bytes = 0;
  std::string note;  // why oom_path differs from requested_path, or other caveats; may be empty
};

// Picks the cgroup whose limit a memory cgroup OOM for `chain[0]` happens at. `chain` runs
// from the requested cgroup up to (and including) the hierarchy root. The binding limit is
// the smallest memory limit on the chain (the hierarchical_memory_limit of memory.stat),
// nearest to the requested cgroup on ties; a v1 parent with use_hierarchy=0 ends the chain.
// Errc::kNotFound when no cgroup on the chain has a limit: only a global OOM can reach it.
Result<MemcgScope> resolveMemcgScope(std::span<const MemcgLimits> chain, CgroupVersion version,
                                     uint64_t total_swap_pages, uint64_t page_size_kb);

// True iff `path` is `ancestor` or lies below it ("/a/b" is under "/a", "/ab" is not).
bool isCgroupUnder(std::string_view path, std::string_view ancestor);

}  // namespace oomkit::core
