// Formats: mm/memcontrol.c (v1 mem_cgroup_read_u64(), memcg_stat_show(); v2 memory_max_show()
// through seq_puts_memcg_tunable()), checked against 3.10, 4.19, 5.15 and 6.18. Every file
// holds one value and a '\n'.
#include "oomkit/core/cgroup_memory.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "oomkit/core/text.h"
#include "oomkit/result.h"

namespace oomkit::core {
namespace {

// An unlimited v1 counter reads PAGE_COUNTER_MAX * PAGE_SIZE: LONG_MAX / PAGE_SIZE pages
// (mm/page_counter.c), so INT64_MAX rounded down to a page, 9223372036854771712 with 4 KiB
// pages; 3.10's res_counter printed RESOURCE_MAX = LLONG_MAX (9223372036854775807) itself.
// Anything within 1 MiB of INT64_MAX covers every page size up to 1 MiB. No real machine
// has that much memory to limit.
constexpr uint64_t kV1UnlimitedThreshold =
    static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - (uint64_t{1} << 20);

// memory.swappiness accepts 0..200 since 5.8 (anon/file IO cost balancing), 0..100 before.
constexpr uint64_t kMaxSwappiness = 200;

MemoryLimit v1Limit(uint64_t bytes) {
  if (bytes >= kV1UnlimitedThreshold) return std::nullopt;
  return bytes;
}

Unexpected notA(std::string_view what, std::string_view text) {
  return makeError(Errc::kParse, "not " + std::string(what) + ": " + quoteBytes(text));
}

// Reads one memory.stat line into `limit` if its key is `key`; other lines are left alone.
Status readStatLimit(std::string_view line, std::string_view key, MemoryLimit& limit) {
  std::string_view rest = line;
  if (nextToken(rest) != key) return Ok{};
  const auto bytes = parseU64(trim(rest));
  if (!bytes) {
    return makeError(Errc::kParse,
                     "memory.stat: " + std::string(key) + " is not a number: " + quoteBytes(line));
  }
  limit = v1Limit(*bytes);
  return Ok{};
}

}  // namespace

Result<MemoryLimit> parseV1Limit(std::string_view text) {
  const auto bytes = parseU64(stripTrailingNewline(text));
  if (!bytes) return notA("a v1 memory limit in bytes", text);
  return v1Limit(*bytes);
}

Result<MemoryLimit> parseV2Limit(std::string_view text) {
  const std::string_view value = stripTrailingNewline(text);
  if (value == "max") return MemoryLimit{std::nullopt};
  const auto bytes = parseU64(value);
  if (!bytes) return notA("'max' or a v2 memory limit in bytes", text);
  return MemoryLimit{*bytes};
}

Result<uint64_t> parseBytes(std::string_view text) {
  const auto bytes = parseU64(stripTrailingNewline(text));
  if (!bytes) return notA("a byte count", text);
  return *bytes;
}

Result<bool> parseUseHierarchy(std::string_view text) {
  const std::string_view value = stripTrailingNewline(text);
  if (value != "0" && value != "1") return notA("memory.use_hierarchy 0 or 1", text);
  return value == "1";
}

Result<int32_t> parseSwappiness(std::string_view text) {
  const auto value = parseU64(stripTrailingNewline(text));
  if (!value || *value > kMaxSwappiness) return notA("a swappiness in [0, 200]", text);
  return static_cast<int32_t>(*value);
}

Result<MemoryStatV1> parseMemoryStatV1(std::string_view text) {
  MemoryStatV1 stat;
  Status failure = Ok{};
  forEachLine(text, [&](std::string_view line) {
    if (failure)
      failure = readStatLimit(line, "hierarchical_memory_limit", stat.hierarchical_memory_limit);
    if (failure)
      failure = readStatLimit(line, "hierarchical_memsw_limit", stat.hierarchical_memsw_limit);
  });
  if (!failure) return Unexpected(failure.error());
  return stat;
}

}  // namespace oomkit::core
