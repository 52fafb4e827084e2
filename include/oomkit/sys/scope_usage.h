// oomkit/sys/scope_usage.h — how much memory an OOM scope uses now, to tell how much a kill
// gave back.
//
// A memory cgroup's usage is its page counter: v2 memory.current, v1 memory.usage_in_bytes
// (Documentation/admin-guide/cgroup-v{1,2}). The machine's is MemTotal - MemAvailable
// (MemFree before 3.14, which had no MemAvailable), the memory the kernel cannot hand out
// without swapping. Read once when a victim is signalled and once when it has exited.
// Thread-safe for distinct ProcReaders.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "oomkit/result.h"
#include "oomkit/sys/proc_reader.h"

namespace oomkit::sys {

// Bytes in use in the cgroup at `cgroup_dir`, or on the whole machine when it is nullopt.
// Errc::kNotFound when the cgroup is gone.
Result<uint64_t> readScopeUsage(ProcReader& proc, const std::optional<std::string>& cgroup_dir);

// `before - after`, or 0 when usage grew meanwhile (other processes allocated).
inline uint64_t recoveredBytes(uint64_t before, uint64_t after) {
  return before > after ? before - after : 0;
}

}  // namespace oomkit::sys
