// oomkit/sys/oom_group.h — cgroup v2 memory.oom.group: which cgroup an OOM kill takes down
// as a whole, its members, and cgroup.kill.
//
// With memory.oom.group=1 on the victim's cgroup or an ancestor inside the OOM domain, the
// kernel kills every process of the highest such cgroup (mm/memcontrol.c
// mem_cgroup_get_oom_group(); core::selectOomGroup()). v2 only: on a v1 memory hierarchy
// there is no group. cgroup.kill (5.14+) SIGKILLs a whole subtree atomically, including
// processes forked meanwhile. Gathering and writing only; who is spared is
// core::judgeGroupMember(). Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oomkit/result.h"
#include "oomkit/sys/cgroups.h"

namespace oomkit::sys {

// The cgroup (as /proc/PID/cgroup shows it) whose members all die with a victim in
// `victim_cgroup` during an OOM of `oom_domain` ("/" for global), or nullopt: a v1 hierarchy,
// the victim in the root cgroup or outside the domain, or no memory.oom.group set. A missing
// memory.oom.group file (no memory controller there, kernel before 4.19) counts as 0.
// Errc::kParse if a memory.oom.group holds something other than 0 or 1.
Result<std::optional<std::string>> findOomGroup(const MemoryHierarchy& hierarchy,
                                                const std::string& victim_cgroup,
                                                const std::string& oom_domain);

// The pids in cgroup.procs of `dir` and of every cgroup below it. Errc::kNotFound if `dir`
// is gone; sub-cgroups removed during the walk are skipped.
Result<std::vector<int32_t>> listCgroupTreePids(const std::string& dir);

// True iff `dir` has a cgroup.kill file (cgroup v2, kernel 5.14+, not the root cgroup).
bool hasCgroupKill(const std::string& dir);

// Writes "1" to `dir`/cgroup.kill: every process in the subtree gets SIGKILL.
Status writeCgroupKill(const std::string& dir);

}  // namespace oomkit::sys
