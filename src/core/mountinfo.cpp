// Format: fs/proc_namespace.c show_mountinfo() (Documentation/filesystems/proc.rst 3.5),
// checked against 3.10, 4.19, 5.15 and 6.18:
//   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
// Fields are separated by exactly one space: mangle() writes spaces, tabs, newlines and
// backslashes in paths as \040 \011 \012 \134, so a path never holds a raw blank.
#include <cstddef>
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

// Splits off the text up to the next ' ' (an empty field is valid); nullopt once `s` is used
// up. Exact splitting matters after " - ": a mount source given as "" prints as nothing.
std::optional<std::string_view> nextField(std::optional<std::string_view>& s) {
  if (!s) return std::nullopt;
  const std::string_view rest = *s;
  const size_t space = rest.find(' ');
  if (space == std::string_view::npos) {
    s.reset();
    return rest;
  }
  s = rest.substr(space + 1);
  return rest.substr(0, space);
}

Unexpected malformed(std::string_view what, std::string_view line) {
  return makeError(Errc::kParse, std::string(what) + ": " + quoteBytes(line));
}

// Skips the optional fields (shared:N, master:N, propagate_from:N, unbindable) up to and
// including the "-" separator. Returns false if there is no separator.
bool skipOptionalFields(std::optional<std::string_view>& rest) {
  for (auto field = nextField(rest); field; field = nextField(rest)) {
    if (*field == "-") return true;
  }
  return false;
}

Result<MountInfo> parseLine(std::string_view line) {
  std::optional<std::string_view> rest = line;
  const auto mount_id = nextField(rest);
  const auto parent_id = nextField(rest);
  (void)nextField(rest);  // major:minor, not needed
  const auto root = nextField(rest);
  const auto mount_point = nextField(rest);
  const auto options = nextField(rest);
  if (!options) return malformed("has fewer than 6 fields before ' - '", line);
  if (!parseU64(*mount_id) || !parseU64(*parent_id)) {
    return malformed("mount ID or parent ID is not a number", line);
  }
  if (root->empty() || mount_point->empty()) return malformed("empty root or mount point", line);
  if (!skipOptionalFields(rest)) return malformed("no ' - ' separator", line);
  const auto fs_type = nextField(rest);
  (void)nextField(rest);  // mount source
  // The super options are the rest of the line: the separator's " - " already ensures the
  // first three fields, and show_options() implementations are not all careful to escape.
  if (!fs_type || !rest || fs_type->empty() || rest->empty()) {
    return malformed("has fewer than 3 fields after ' - '", line);
  }
  MountInfo info;
  info.root = unescapeKernelString(*root);
  info.mount_point = unescapeKernelString(*mount_point);
  info.fs_type = std::string(*fs_type);
  info.super_options = std::string(*rest);
  return info;
}

}  // namespace

Result<std::vector<MountInfo>> parseMountInfo(std::string_view text) {
  return parseEachLine<MountInfo>(text, "mountinfo", parseLine);
}

}  // namespace oomkit::core
