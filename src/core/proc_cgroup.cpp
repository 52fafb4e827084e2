// Format: kernel/cgroup/cgroup.c proc_cgroup_show() (kernel/cgroup.c before 4.5), checked
// against 3.10, 4.19, 5.15 and 6.18: "hierarchy-ID:controller-list:cgroup-path" per line.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oomkit/core/procfs.h"
#include "oomkit/core/text.h"
#include "oomkit/result.h"

namespace oomkit::core {
namespace {

// The v2 (unified) hierarchy prints hierarchy ID 0 and an empty controller list.
constexpr int32_t kUnifiedHierarchyId = 0;

std::vector<std::string> splitControllers(std::string_view list) {
  std::vector<std::string> controllers;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    controllers.emplace_back(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return controllers;
}

Result<CgroupLine> parseLine(std::string_view line) {
  // Split on the first two colons only: the path is printed raw and may itself hold ':'.
  const size_t first = line.find(':');
  const size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
  if (second == std::string_view::npos) {
    return makeError(Errc::kParse, "has fewer than 3 ':'-separated fields: " + quoteBytes(line));
  }
  const auto id = parseU64(line.substr(0, first));
  if (!id || *id > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
    return makeError(Errc::kParse, "hierarchy ID is not a number: " + quoteBytes(line));
  }
  CgroupLine out;
  out.hierarchy_id = static_cast<int32_t>(*id);
  out.controllers = splitControllers(line.substr(first + 1, second - first - 1));
  out.path = std::string(line.substr(second + 1));
  if (out.path.empty()) return makeError(Errc::kParse, "path is empty: " + quoteBytes(line));
  return out;
}

}  // namespace

// An empty file is valid: with no v1 hierarchy mounted and cgroup2 never mounted
// (cgrp_dfl_visible false), proc_cgroup_show() prints no line at all.
Result<std::vector<CgroupLine>> parseProcCgroup(std::string_view text) {
  return parseEachLine<CgroupLine>(text, "cgroup", parseLine);
}

std::optional<std::string> v1MemoryCgroupPath(const std::vector<CgroupLine>& lines) {
  for (const CgroupLine& line : lines) {
    if (line.hierarchy_id == kUnifiedHierarchyId) continue;
    for (const std::string& controller : line.controllers) {
      if (controller == "memory") return line.path;
    }
  }
  return std::nullopt;
}

std::optional<std::string> v2CgroupPath(const std::vector<CgroupLine>& lines) {
  for (const CgroupLine& line : lines) {
    if (line.hierarchy_id == kUnifiedHierarchyId && line.controllers.empty()) return line.path;
  }
  return std::nullopt;
}

}  // namespace oomkit::core
