// oomkit/sys/scope_reader.h — gathers everything victim selection needs for one OOM scope:
// the machine's totalpages, the scope (global, or the memory cgroup whose limit binds), and
// the processes in it, in the kernel's walk order.
//
// Gathering only: choosing is core::rankProcesses()/selectVictim() on the result.
// A memcg scope reads membership from each cgroup's cgroup.procs (the kernel's own list), so
// only the processes in that subtree are read. Not thread-safe (uses the ProcReader).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oomkit/core/ranking.h"
#include "oomkit/result.h"
#include "oomkit/sys/proc_reader.h"

namespace oomkit::sys {

struct ScopeRequest {
  std::optional<std::string> cgroup;      // as /proc/PID/cgroup shows it; none = global
  std::optional<core::Formula> formula;   // none = the running kernel's
  std::vector<std::string> cgroup_roots;  // --cgroup-root; empty = from mountinfo
  // Without kFieldStat, stat (start time, for the walk order) is read only for processes
  // whose badness ties with another's: the cheapest exact ranking.
  unsigned fields = kFieldsAll;
};

struct MachineMemory {
  core::MemInfo meminfo;
  uint64_t page_size_kb = 4;
  uint64_t global_totalpages = 1;
  std::string kernel_release;  // empty when unreadable
};

struct ScopeView {
  bool is_memcg = false;
  std::string path = "/";  // the OOM cgroup ("/" for global)
  std::string requested_path;
  std::string note;                 // e.g. why an ancestor's limit is the binding one
  uint64_t limit_bytes = 0;         // memcg only
  std::string hierarchy;            // "v1" / "v2" for memcg
  bool formula_from_kernel = true;  // false when the caller chose the formula
  MachineMemory machine;
  core::RankParams params;
  std::vector<core::Process> processes;  // those in the scope, in the kernel's walk order
  ScanCounters counters;
};

Result<MachineMemory> readMachineMemory(ProcReader& proc);

// Errors: the proc root unreadable, an unknown kernel formula without an explicit one, a
// cgroup that does not exist, no memory hierarchy, or a cgroup no limit applies to.
Result<ScopeView> gatherScope(ProcReader& proc, const ScopeRequest& request);

}  // namespace oomkit::sys
