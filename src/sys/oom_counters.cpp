#include "oomkit/sys/oom_counters.h"

#include "oomkit/core/scope.h"
#include "oomkit/core/text.h"
#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

// /proc/vmstat is ~4 KiB on 6.x (some 180 counters); room for kernels that add many more.
constexpr size_t kVmstatMaxBytes = 64 * 1024;

Result<uint64_t> readVmstatKills(PolledFile& vmstat) {
  auto text = vmstat.read();
  if (!text) return Unexpected(text.error());
  auto kills = core::findKeyedValue(*text, "oom_kill");
  if (!kills) {
    return makeError(Errc::kUnavailable,
                     vmstat.path() + " has no oom_kill counter (kernels before 4.13)");
  }
  return *kills;
}

// True iff some other cgroup in `rose` lies below `path`.
bool hasDescendantIn(const std::vector<CgroupKills>& rose, const std::string& path) {
  for (const auto& other : rose) {
    if (other.path != path && core::isCgroupUnder(other.path, path)) return true;
  }
  return false;
}

}  // namespace

Result<OomKillCounters> OomKillCounters::open(ProcReader& proc,
                                              std::optional<MemoryHierarchy> hierarchy) {
  auto vmstat = PolledFile::open(proc.root() + "/vmstat", kVmstatMaxBytes);
  if (!vmstat) return Unexpected(vmstat.error());
  OomKillCounters counters(proc, std::move(hierarchy), std::move(*vmstat));
  auto global = readVmstatKills(counters.vmstat_);
  if (!global) return Unexpected(global.error());
  counters.global_ = *global;
  counters.per_cgroup_ = counters.readAllCgroups();
  return counters;
}

Result<uint64_t> OomKillCounters::pollGlobal() {
  auto now = readVmstatKills(vmstat_);
  if (!now) return Unexpected(now.error());
  const uint64_t added = *now >= global_ ? *now - global_ : 0;
  global_ = *now;
  return added;
}

bool OomKillCounters::hasLocalEvents() const {
  const auto dir = hierarchy_ ? hierarchy_->dirOf(hierarchy_->mount_root) : std::nullopt;
  if (!dir) return false;
  auto children = listDirectory(*dir);
  if (!children) return false;
  for (const auto& name : *children) {
    if (pathExists(*dir + "/" + name + "/memory.events.local")) return true;
  }
  return false;
}

std::map<std::string, uint64_t> OomKillCounters::readAllCgroups() const {
  std::map<std::string, uint64_t> counts;
  if (!hierarchy_) return counts;
  const bool v1 = hierarchy_->version == core::CgroupVersion::kV1;
  auto paths = listSubtreePreorder(*hierarchy_, hierarchy_->mount_root);
  if (!paths) return counts;
  for (const auto& path : *paths) {
    const auto dir = hierarchy_->dirOf(path);
    if (!dir) continue;
    // v2: memory.events.local (5.2+) counts this cgroup alone; memory.events its subtree.
    auto text = readFile(*dir + (v1 ? "/memory.oom_control" : "/memory.events.local"));
    if (!text && !v1) text = readFile(*dir + "/memory.events");
    if (!text) continue;  // the v2 root has neither; a cgroup may vanish
    if (auto kills = core::findKeyedValue(*text, "oom_kill")) counts[path] = *kills;
  }
  return counts;
}

std::vector<CgroupKills> OomKillCounters::scanCgroups() {
  std::map<std::string, uint64_t> now = readAllCgroups();
  std::vector<CgroupKills> rose;
  for (const auto& [path, count] : now) {
    const auto before = per_cgroup_.find(path);
    const uint64_t base = before == per_cgroup_.end() ? 0 : before->second;
    if (count > base) rose.push_back({path, count - base});
  }
  per_cgroup_ = std::move(now);
  // Hierarchical v2 counts (no memory.events.local) also rise in every ancestor: keep the
  // deepest cgroups, where the kills happened.
  if (hierarchy_ && hierarchy_->version == core::CgroupVersion::kV2 && !hasLocalEvents()) {
    std::vector<CgroupKills> deepest;
    for (const auto& entry : rose) {
      if (!hasDescendantIn(rose, entry.path)) deepest.push_back(entry);
    }
    return deepest;
  }
  return rose;
}

}  // namespace oomkit::sys
