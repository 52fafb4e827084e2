#include "oomkit/sys/oom_group.h"

#include <dirent.h>

#include "oomkit/core/kill_rules.h"
#include "oomkit/core/text.h"
#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

// memory.oom.group of the cgroup at `dir`: "0\n" or "1\n" (mm/memcontrol.c
// memory_oom_group_show()); a missing file reads as 0.
Result<bool> readOomGroup(const std::string& dir) {
  const std::string file = dir + "/memory.oom.group";
  auto text = readFile(file);
  if (!text) {
    if (text.error().code == Errc::kNotFound) return false;
    return Unexpected(text.error());
  }
  const auto value = core::parseU64(core::trim(*text));
  if (!value || *value > 1) return makeError(Errc::kParse, file + ": expected 0 or 1");
  return *value == 1;
}

// The names of the sub-cgroups of `dir` (its subdirectories).
std::vector<std::string> childCgroups(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (const dirent* entry = ::readdir(d)) {
    const std::string_view name = entry->d_name;
    if (entry->d_type == DT_DIR && name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(d);
  return names;
}

Status appendPids(const std::string& dir, std::vector<int32_t>& pids) {
  auto text = readFile(dir + "/cgroup.procs");
  if (!text) return Unexpected(text.error());
  core::forEachLine(*text, [&](std::string_view line) {
    const auto pid = core::parseU64(core::trim(line));
    if (pid && *pid > 0 && *pid <= INT32_MAX) pids.push_back(static_cast<int32_t>(*pid));
  });
  for (const std::string& child : childCgroups(dir)) {
    (void)appendPids(dir + "/" + child, pids);  // removed meanwhile: nothing to kill there
  }
  return Ok{};
}

}  // namespace

Result<std::optional<std::string>> findOomGroup(const MemoryHierarchy& hierarchy,
                                                const std::string& victim_cgroup,
                                                const std::string& oom_domain) {
  std::optional<std::string> none;
  if (hierarchy.version != core::CgroupVersion::kV2) return none;  // cgroup_subsys_on_dfl()
  std::vector<core::OomGroupFlag> chain;
  for (std::string& path : core::oomGroupCandidates(victim_cgroup, oom_domain)) {
    const auto dir = hierarchy.dirOf(path);
    if (!dir) break;  // above the mount: not visible, cannot be a group we could kill
    auto set = readOomGroup(*dir);
    if (!set) return Unexpected(set.error().wrap("finding the memory.oom.group cgroup"));
    chain.push_back({std::move(path), *set});
  }
  return core::selectOomGroup(chain);
}

Result<std::vector<int32_t>> listCgroupTreePids(const std::string& dir) {
  std::vector<int32_t> pids;
  if (auto s = appendPids(dir, pids); !s) return Unexpected(s.error());
  return pids;
}

bool hasCgroupKill(const std::string& dir) {
  return pathExists(dir + "/cgroup.kill");
}

Status writeCgroupKill(const std::string& dir) {
  return writeFile(dir + "/cgroup.kill", "1");
}

}  // namespace oomkit::sys
