#include <optional>
#include <string>
#include <string_view>

#include "oomkit/core/procfs.h"
#include "oomkit/core/text.h"

namespace oomkit::core {
namespace {

Result<MapsEntry> badLine(std::string_view line, std::string_view what) {
  return makeError(Errc::kParse, "maps: " + std::string(what) + " in " + quoteBytes(line));
}

// "rwxp": each letter or '-', the last 's' or 'p'.
bool readPermissions(std::string_view perms, MapsEntry& entry) {
  if (perms.size() != 4) return false;
  const auto flag = [](char c, char set) -> std::optional<bool> {
    if (c == set) return true;
    if (c == '-') return false;
    return std::nullopt;
  };
  const auto r = flag(perms[0], 'r');
  const auto w = flag(perms[1], 'w');
  const auto x = flag(perms[2], 'x');
  if (!r || !w || !x || (perms[3] != 's' && perms[3] != 'p')) return false;
  entry.readable = *r;
  entry.writable = *w;
  entry.executable = *x;
  entry.shared = perms[3] == 's';
  return true;
}

}  // namespace

Result<MapsEntry> parseMapsLine(std::string_view line) {
  std::string_view rest = line;
  const std::string_view range = nextToken(rest);
  const std::string_view perms = nextToken(rest);
  const std::string_view offset = nextToken(rest);
  const std::string_view device = nextToken(rest);
  const std::string_view inode = nextToken(rest);
  if (inode.empty()) return badLine(line, "fewer than five fields");

  MapsEntry entry;
  const size_t dash = range.find('-');
  const auto start =
      dash == std::string_view::npos ? std::nullopt : parseHex64(range.substr(0, dash));
  const auto end =
      dash == std::string_view::npos ? std::nullopt : parseHex64(range.substr(dash + 1));
  if (!start || !end || *end < *start) return badLine(line, "address range is not start-end");
  entry.start = *start;
  entry.end = *end;
  if (!readPermissions(perms, entry)) return badLine(line, "permissions are not [r-][w-][x-][sp]");
  const size_t colon = device.find(':');
  if (!parseHex64(offset) || colon == std::string_view::npos ||
      !parseHex64(device.substr(0, colon)) || !parseHex64(device.substr(colon + 1))) {
    return badLine(line, "offset or device is not hexadecimal");
  }
  const auto inode_number = parseU64(inode);
  if (!inode_number) return badLine(line, "inode is not a number");
  entry.inode = *inode_number;
  // The path is the rest after the padding, spaces within it kept.
  const size_t path_start = rest.find_first_not_of(' ');
  if (path_start != std::string_view::npos) entry.path = std::string(rest.substr(path_start));
  return entry;
}

}  // namespace oomkit::core
