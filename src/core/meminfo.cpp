// Format: fs/proc/meminfo.c meminfo_proc_show(), "Key:   <n> kB" per line, checked against
// 3.10, 4.19, 5.15 and 6.18. MemAvailable appeared in 3.14.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "oomkit/core/procfs.h"
#include "oomkit/core/text.h"
#include "oomkit/result.h"

namespace oomkit::core {
namespace {

// The keys we read, in the order of MemValues' slots.
constexpr std::array<std::string_view, 5> kKeys = {"MemTotal", "MemFree", "MemAvailable",
                                                   "SwapTotal", "SwapFree"};
enum Slot : size_t { kMemTotal, kMemFree, kMemAvailable, kSwapTotal, kSwapFree };
using MemValues = std::array<std::optional<uint64_t>, kKeys.size()>;

// Reads one line into its slot; lines with other keys (HugePages_Total has no unit) are
// ignored, but a key we read must hold "<n> kB".
Status parseLine(std::string_view line, MemValues& values) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return Ok{};
  const std::string_view key = line.substr(0, colon);
  for (size_t i = 0; i < kKeys.size(); ++i) {
    if (kKeys[i] != key) continue;
    const std::string_view value = line.substr(colon + 1);
    values[i] = parseKb(value);
    if (!values[i]) {
      return makeError(Errc::kParse, "meminfo: " + std::string(key) +
                                         ": is not '<n> kB': " + quoteBytes(trim(value)));
    }
  }
  return Ok{};
}

}  // namespace

Result<MemInfo> parseMemInfo(std::string_view text) {
  MemValues values{};
  Status failure = Ok{};
  forEachLine(text, [&](std::string_view line) {
    if (failure) failure = parseLine(line, values);
  });
  if (!failure) return Unexpected(failure.error());
  if (!values[kMemTotal]) return makeError(Errc::kParse, "meminfo: no MemTotal: line");
  MemInfo info;
  info.mem_total_kb = *values[kMemTotal];
  info.mem_free_kb = values[kMemFree].value_or(0);
  info.mem_available_kb = values[kMemAvailable];
  info.swap_total_kb = values[kSwapTotal].value_or(0);
  info.swap_free_kb = values[kSwapFree].value_or(0);
  return info;
}

}  // namespace oomkit::core
