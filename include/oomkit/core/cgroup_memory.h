// oomkit/core/cgroup_memory.h — parsers for memory-cgroup control files, v1 and v2.
//
// v1: Documentation/admin-guide/cgroup-v1/memory.rst (memory.limit_in_bytes,
// memory.memsw.limit_in_bytes, memory.usage_in_bytes, memory.use_hierarchy, memory.stat,
// memory.swappiness). v2: Documentation/admin-guide/cgroup-v2.rst (memory.max,
// memory.swap.max, memory.current). Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "oomkit/result.h"

namespace oomkit::core {

// A memory limit in bytes; nullopt means "no limit" (v2 "max", v1 PAGE_COUNTER_MAX pages).
using MemoryLimit = std::optional<uint64_t>;

// v1 memory.limit_in_bytes / memory.memsw.limit_in_bytes. The kernel prints an unlimited
// counter as PAGE_COUNTER_MAX * PAGE_SIZE (9223372036854771712 with 4 KiB pages); any value
// within 1 MiB of INT64_MAX is read as unlimited, which covers every page size.
Result<MemoryLimit> parseV1Limit(std::string_view text);
// v2 memory.max / memory.swap.max / memory.high: "max" or a byte count.
Result<MemoryLimit> parseV2Limit(std::string_view text);
// A plain byte count: v1 memory.usage_in_bytes, v2 memory.current.
Result<uint64_t> parseBytes(std::string_view text);
// v1 memory.use_hierarchy: "0" or "1".
Result<bool> parseUseHierarchy(std::string_view text);
// v1 memory.swappiness: 0..200 (0..100 before 5.8).
Result<int32_t> parseSwappiness(std::string_view text);

// The parts of v1 memory.stat that scope resolution needs.
struct MemoryStatV1 {
  MemoryLimit hierarchical_memory_limit;  // min of the limits from here up to the root
  MemoryLimit hierarchical_memsw_limit;   // absent without swap accounting
};
Result<MemoryStatV1> parseMemoryStatV1(std::string_view text);

}  // namespace oomkit::core
