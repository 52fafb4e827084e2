// oomkit/sys/scope_sampler.h — the cheap, frequent read of a scope's available memory that the
// daemon's watermark detector samples (up to every few milliseconds near `min`).
//
// readScopeMemory() walks the cgroup chain and reads several files per level; doing that every
// 5 ms would cost more than the daemon should. The sampler resolves the scope once (which
// cgroup's limit binds, and that limit), keeps the one counter file that then matters open —
// the binding cgroup's memory.current / memory.usage_in_bytes, or /proc/meminfo for the global
// scope — and re-reads it with pread() (seq_file regenerates the text at offset 0). The chain
// is resolved again every `refresh` (limits change: grow-limit, an operator), and at once when
// a read fails. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "oomkit/result.h"
#include "oomkit/sys/cgroups.h"
#include "oomkit/sys/files.h"
#include "oomkit/sys/proc_reader.h"
#include "oomkit/sys/scope_memory.h"

namespace oomkit::sys {

class ScopeSampler {
 public:
  using Time = std::chrono::steady_clock::time_point;

  // `proc` must outlive the sampler. Errors as readScopeMemory().
  static Result<ScopeSampler> open(ProcReader& proc, std::optional<MemoryHierarchy> memory,
                                   std::optional<std::string> cgroup,
                                   std::chrono::milliseconds refresh = std::chrono::seconds(2));
  Result<ScopeMemory> sample(Time now);

 private:
  ScopeSampler(ProcReader& proc, std::optional<MemoryHierarchy> memory,
               std::optional<std::string> cgroup, std::chrono::milliseconds refresh)
      : proc_(&proc), memory_(std::move(memory)), cgroup_(std::move(cgroup)), refresh_(refresh) {}
  Status resolve(Time now);
  Result<ScopeMemory> readGlobal();
  Result<ScopeMemory> readCgroup();

  ProcReader* proc_;
  std::optional<MemoryHierarchy> memory_;
  std::optional<std::string> cgroup_;
  std::chrono::milliseconds refresh_;
  Time resolved_at_{};
  bool resolved_ = false;
  ScopeMemory binding_;                // the binding level's limit (total_bytes) and path
  std::optional<PolledFile> counter_;  // /proc/meminfo, or the binding level's usage
};

}  // namespace oomkit::sys
