// oomkit/sys/cgroups.h — finding the memory cgroup hierarchy and reading its limits.
//
// The memory controller lives either on a cgroup v1 hierarchy of its own (typically
// /sys/fs/cgroup/memory) or on the v2 unified hierarchy (/sys/fs/cgroup, or
// /sys/fs/cgroup/unified in hybrid setups, where it then usually has no memory controller).
// Hierarchies are found from mountinfo, or from the --cgroup-root directories the user gives.
// Paths are always written as /proc/PID/cgroup shows them ("/system.slice/foo.service") and
// mapped to directories here. Thread-safe (no shared state).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "oomkit/core/scope.h"
#include "oomkit/result.h"
#include "oomkit/sys/proc_reader.h"

namespace oomkit::sys {

struct MemoryHierarchy {
  core::CgroupVersion version = core::CgroupVersion::kV1;
  std::string mount_dir;         // where the hierarchy is mounted
  std::string mount_root = "/";  // the cgroup path the mount shows at its top (mountinfo root)

  // The directory of cgroup `path`; nullopt if the path lies outside this mount.
  std::optional<std::string> dirOf(const std::string& path) const;
};

// hierarchy.dirOf(cgroup), or Errc::kInvalidArgument saying that the cgroup lies outside it.
Result<std::string> cgroupDirOf(const MemoryHierarchy& hierarchy, const std::string& cgroup);

// Finds the hierarchy that carries the memory controller. With no `cgroup_roots`, from
// <proc-root>/self/mountinfo; otherwise each root is probed: a v2 root whose
// cgroup.controllers lists "memory", a v1 memory hierarchy (memory.limit_in_bytes), or a
// directory holding one as "memory/" or "unified/". Errc::kUnavailable when none is found.
Result<MemoryHierarchy> findMemoryHierarchy(ProcReader& proc,
                                            const std::vector<std::string>& cgroup_roots);

// The limits of one cgroup (Errc::kNotFound if it does not exist).
Result<core::MemcgLimits> readMemcgLimits(const MemoryHierarchy& hierarchy, const std::string& path,
                                          int32_t vm_swappiness);

// The cgroup paths from `path` up to the hierarchy's top, each with its limits.
Result<std::vector<core::MemcgLimits>> readMemcgChain(const MemoryHierarchy& hierarchy,
                                                      const std::string& path,
                                                      int32_t vm_swappiness);

// `path` and every cgroup below it, in the order mem_cgroup_iter() visits them: pre-order,
// siblings in creation order (kernfs inode numbers grow with creation).
Result<std::vector<std::string>> listSubtreePreorder(const MemoryHierarchy& hierarchy,
                                                     const std::string& path);

}  // namespace oomkit::sys
