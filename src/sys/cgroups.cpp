#include "oomkit/sys/cgroups.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "oomkit/core/text.h"
#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

bool hasToken(std::string_view list, std::string_view token, char separator) {
  while (!list.empty()) {
    const size_t end = list.find(separator);
    if (core::trim(list.substr(0, end)) == token) return true;
    if (end == std::string_view::npos) break;
    list.remove_prefix(end + 1);
  }
  return false;
}

bool v2HasMemory(const std::string& dir) {
  auto controllers = readFile(dir + "/cgroup.controllers");
  return controllers && hasToken(core::trim(*controllers), "memory", ' ');
}

std::optional<MemoryHierarchy> probeRoot(const std::string& root) {
  if (pathExists(root + "/memory.limit_in_bytes")) {
    return MemoryHierarchy{core::CgroupVersion::kV1, root, "/"};
  }
  if (v2HasMemory(root)) return MemoryHierarchy{core::CgroupVersion::kV2, root, "/"};
  for (const char* sub : {"/memory", "/unified"}) {
    if (pathExists(root + sub + "/memory.limit_in_bytes")) {
      return MemoryHierarchy{core::CgroupVersion::kV1, root + sub, "/"};
    }
    if (v2HasMemory(root + sub)) return MemoryHierarchy{core::CgroupVersion::kV2, root + sub, "/"};
  }
  return std::nullopt;
}

std::optional<MemoryHierarchy> fromMountInfo(const std::vector<core::MountInfo>& mounts) {
  for (const auto& m : mounts) {
    if (m.fs_type == "cgroup" && hasToken(m.super_options, "memory", ',')) {
      return MemoryHierarchy{core::CgroupVersion::kV1, m.mount_point, m.root};
    }
  }
  for (const auto& m : mounts) {
    if (m.fs_type == "cgroup2" && v2HasMemory(m.mount_point)) {
      return MemoryHierarchy{core::CgroupVersion::kV2, m.mount_point, m.root};
    }
  }
  return std::nullopt;
}

std::string parentOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::string childPath(const std::string& parent, const std::string& name) {
  return parent == "/" ? "/" + name : parent + "/" + name;
}

// Child cgroups of `dir`, in creation order.
std::vector<std::string> childrenInCreationOrder(const std::string& dir) {
  std::vector<std::pair<ino_t, std::string>> children;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return {};
  while (const dirent* entry = ::readdir(d)) {
    const std::string_view name = entry->d_name;
    if (entry->d_type != DT_DIR || name == "." || name == "..") continue;
    children.emplace_back(entry->d_ino, std::string(name));
  }
  ::closedir(d);
  std::sort(children.begin(), children.end());
  std::vector<std::string> names;
  for (auto& child : children)
    names.push_back(std::move(child.second));
  return names;
}

void appendPreorder(const MemoryHierarchy& h, const std::string& path,
                    std::vector<std::string>& out) {
  out.push_back(path);
  const auto dir = h.dirOf(path);
  if (!dir) return;
  for (const auto& name : childrenInCreationOrder(*dir))
    appendPreorder(h, childPath(path, name), out);
}

}  // namespace

std::optional<std::string> MemoryHierarchy::dirOf(const std::string& path) const {
  if (!core::isCgroupUnder(path, mount_root)) return std::nullopt;
  const std::string rest = mount_root == "/" ? path : path.substr(mount_root.size());
  return rest.empty() || rest == "/" ? mount_dir : mount_dir + rest;
}

Result<std::string> cgroupDirOf(const MemoryHierarchy& hierarchy, const std::string& cgroup) {
  auto dir = hierarchy.dirOf(cgroup);
  if (!dir) {
    return makeError(Errc::kInvalidArgument, "cgroup " + cgroup +
                                                 " lies outside the memory hierarchy mounted at " +
                                                 hierarchy.mount_dir);
  }
  return *dir;
}

Result<MemoryHierarchy> findMemoryHierarchy(ProcReader& proc,
                                            const std::vector<std::string>& cgroup_roots) {
  for (const auto& root : cgroup_roots) {
    if (auto found = probeRoot(root)) return *found;
  }
  if (!cgroup_roots.empty()) {
    return makeError(Errc::kUnavailable, "no memory cgroup hierarchy under --cgroup-root");
  }
  auto text = proc.readText("self/mountinfo");
  if (!text) return Unexpected(text.error().wrap("finding cgroup mounts"));
  auto mounts = core::parseMountInfo(*text);
  if (!mounts) return Unexpected(mounts.error().wrap(proc.root() + "/self/mountinfo"));
  if (auto found = fromMountInfo(*mounts)) return *found;
  return makeError(Errc::kUnavailable,
                   "no memory cgroup controller is mounted (neither v1 nor v2 with memory)");
}

Result<core::MemcgLimits> readMemcgLimits(const MemoryHierarchy& h, const std::string& path,
                                          int32_t vm_swappiness) {
  const auto dir = h.dirOf(path);
  if (!dir) {
    return makeError(Errc::kNotFound, "cgroup " + path + " is outside the memory hierarchy " +
                                          "mounted at " + h.mount_dir);
  }
  if (!pathExists(*dir)) {
    return makeError(Errc::kNotFound, "no memory cgroup " + path + " (looked for " + *dir + ")");
  }
  core::MemcgLimits limits;
  limits.path = path;
  limits.swappiness = vm_swappiness;
  const bool v1 = h.version == core::CgroupVersion::kV1;
  const std::string memory_file = *dir + (v1 ? "/memory.limit_in_bytes" : "/memory.max");
  const std::string swap_file = *dir + (v1 ? "/memory.memsw.limit_in_bytes" : "/memory.swap.max");
  const auto parse_limit = v1 ? core::parseV1Limit : core::parseV2Limit;
  // The root of a v2 hierarchy has no memory.max: it is unlimited.
  if (pathExists(memory_file)) {
    auto memory = readParsedFile(memory_file, parse_limit);
    if (!memory) return Unexpected(memory.error());
    limits.memory = *memory;
  }
  if (pathExists(swap_file)) {
    auto swap = readParsedFile(swap_file, parse_limit);
    if (!swap) return Unexpected(swap.error());
    limits.swap = *swap;
    limits.has_swap_file = true;
  }
  if (v1 && pathExists(*dir + "/memory.use_hierarchy")) {
    auto use = readParsedFile(*dir + "/memory.use_hierarchy", core::parseUseHierarchy);
    if (!use) return Unexpected(use.error());
    limits.use_hierarchy = *use;
  }
  if (v1 && path != h.mount_root && pathExists(*dir + "/memory.swappiness")) {
    auto swappiness = readParsedFile(*dir + "/memory.swappiness", core::parseSwappiness);
    if (!swappiness) return Unexpected(swappiness.error());
    limits.swappiness = *swappiness;
  }
  return limits;
}

Result<std::vector<core::MemcgLimits>> readMemcgChain(const MemoryHierarchy& h,
                                                      const std::string& path,
                                                      int32_t vm_swappiness) {
  std::vector<core::MemcgLimits> chain;
  std::string current = path;
  for (;;) {
    auto limits = readMemcgLimits(h, current, vm_swappiness);
    if (!limits) return Unexpected(limits.error());
    chain.push_back(std::move(*limits));
    if (current == h.mount_root || current == "/") break;
    current = parentOf(current);
  }
  return chain;
}

Result<std::vector<std::string>> listSubtreePreorder(const MemoryHierarchy& h,
                                                     const std::string& path) {
  const auto dir = h.dirOf(path);
  if (!dir || !pathExists(*dir)) return makeError(Errc::kNotFound, "no memory cgroup " + path);
  std::vector<std::string> out;
  appendPreorder(h, path, out);
  return out;
}

}  // namespace oomkit::sys
