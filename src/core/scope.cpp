#include "oomkit/core/scope.h"

#include <algorithm>

namespace oomkit::core {
namespace {

constexpr uint64_t kKb = 1024;

std::string bindingNote(const MemcgScope& scope, size_t binding_level) {
  if (binding_level == 0) return {};
  return "cgroup " + scope.requested_path + " has no tighter limit of its own; a memory " +
         "cgroup OOM happens at " + scope.oom_path + " (" + std::to_string(scope.limit_bytes) +
         " bytes) and the kernel chooses among all of its processes";
}

}  // namespace

uint64_t globalTotalPages(const MemInfo& meminfo, uint64_t page_size_kb) {
  return meminfo.mem_total_kb / page_size_kb + meminfo.swap_total_kb / page_size_kb;
}

uint64_t memcgTotalPages(const MemcgLimits& limits, CgroupVersion version,
                         uint64_t total_swap_pages, uint64_t page_size_kb) {
  const uint64_t page_bytes = page_size_kb * kKb;
  // An unlimited counter is PAGE_COUNTER_MAX pages; callers only pass limited cgroups, but
  // keep the arithmetic total so that nothing overflows if they do not.
  const uint64_t unlimited_pages = INT64_MAX / page_bytes;
  const uint64_t max = limits.memory ? *limits.memory / page_bytes : unlimited_pages;
  uint64_t total = max;
  if (limits.swappiness != 0) {
    if (version == CgroupVersion::kV1 && limits.has_swap_file) {
      // do_memsw_account(): memsw.max counts memory + swap.
      const uint64_t memsw = limits.swap ? *limits.swap / page_bytes : unlimited_pages;
      const uint64_t swap = memsw > max ? memsw - max : 0;
      total += std::min(swap, total_swap_pages);
    } else if (version == CgroupVersion::kV2) {
      const uint64_t swap = limits.swap ? *limits.swap / page_bytes : unlimited_pages;
      total += std::min(swap, total_swap_pages);
    }
  }
  return total == 0 ? 1 : total;  // "mem_cgroup_get_max(oc->memcg) ?: 1"
}

Result<MemcgScope> resolveMemcgScope(std::span<const MemcgLimits> chain, CgroupVersion version,
                                     uint64_t total_swap_pages, uint64_t page_size_kb) {
  if (chain.empty()) return makeError(Errc::kInvalidArgument, "empty cgroup chain");
  std::optional<size_t> binding;
  for (size_t level = 0; level < chain.size(); ++level) {
    const MemcgLimits& limits = chain[level];
    if (limits.memory && (!binding || *limits.memory < *chain[*binding].memory)) binding = level;
    // v1 without hierarchy: this cgroup's charges stop here and never reach its parent.
    if (version == CgroupVersion::kV1 && !limits.use_hierarchy) break;
  }
  if (!binding) {
    return makeError(Errc::kNotFound, "cgroup " + chain[0].path +
                                          " and its ancestors have no memory limit: only a " +
                                          "global OOM can kill its processes");
  }
  MemcgScope scope;
  scope.requested_path = chain[0].path;
  scope.oom_path = chain[*binding].path;
  scope.limit_bytes = *chain[*binding].memory;
  scope.totalpages = memcgTotalPages(chain[*binding], version, total_swap_pages, page_size_kb);
  scope.note = bindingNote(scope, *binding);
  return scope;
}

bool isCgroupUnder(std::string_view path, std::string_view ancestor) {
  if (ancestor == "/" || ancestor.empty()) return !path.empty() && path.front() == '/';
  if (path.size() < ancestor.size() || path.substr(0, ancestor.size()) != ancestor) return false;
  return path.size() == ancestor.size() || path[ancestor.size()] == '/';
}

}  // namespace oomkit::core
