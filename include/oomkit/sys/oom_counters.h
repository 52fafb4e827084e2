// oomkit/sys/oom_counters.h — the kernel's OOM kill counters, to notice kills whose report
// was rate-limited or lost.
//
// Counters (added in 4.13 by "mm/oom_kill: count global and memory cgroup oom kills"):
// /proc/vmstat oom_kill counts every kill, global or memcg: one pread per poll. Per
// cgroup, v1 memory.oom_control "oom_kill" counts kills of tasks in that cgroup only (v1 does
// not propagate memcg events to ancestors), and v2 memory.events "oom_kill" counts its whole
// subtree. So the watcher polls the global counter only, and walks the cgroup tree only when
// that counter moved without a report to explain it. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "oomkit/result.h"
#include "oomkit/sys/cgroups.h"
#include "oomkit/sys/files.h"
#include "oomkit/sys/proc_reader.h"

namespace oomkit::sys {

struct CgroupKills {
  std::string path;    // as /proc/PID/cgroup shows it
  uint64_t kills = 0;  // new since the previous scan
};

class OomKillCounters {
 public:
  // Reads the baselines: /proc/vmstat now, and every cgroup of `hierarchy` if given.
  static Result<OomKillCounters> open(ProcReader& proc, std::optional<MemoryHierarchy> hierarchy);

  // New kills counted in /proc/vmstat since the previous call.
  Result<uint64_t> pollGlobal();

  // Cgroups whose oom_kill rose since the previous scan (a new cgroup starts from 0), each
  // with the kills of its own tasks (v2: memory.events.local where the kernel has it).
  std::vector<CgroupKills> scanCgroups();

  uint64_t globalTotal() const { return global_; }

 private:
  OomKillCounters(ProcReader& proc, std::optional<MemoryHierarchy> hierarchy, PolledFile vmstat)
      : proc_(&proc), hierarchy_(std::move(hierarchy)), vmstat_(std::move(vmstat)) {}
  std::map<std::string, uint64_t> readAllCgroups() const;
  bool hasLocalEvents() const;

  ProcReader* proc_;
  std::optional<MemoryHierarchy> hierarchy_;
  PolledFile vmstat_;  // kept open: one pread per poll (`oomkit watch` polls every 100 ms)
  uint64_t global_ = 0;
  std::map<std::string, uint64_t> per_cgroup_;
};

}  // namespace oomkit::sys
