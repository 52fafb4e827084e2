// Parsers for the memory cgroup OOM event files: v1 memory.oom_control and v2 memory.events
// (Documentation/admin-guide/cgroup-v1/memory.rst "OOM Control", cgroup-v2.rst
// "memory.events"). Formats: mm/memcontrol-v1.c mem_cgroup_oom_control_read() and
// mm/memcontrol.c memory_events_show() (__memory_events_show()), one "%s %lu\n" per key.
#include "oomkit/core/memcg_events.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oomkit/core/text.h"
#include "oomkit/result.h"

namespace oomkit::core {
namespace {

// One key a parser looks for, and where its value goes.
struct KeySlot {
  std::string_view key;
  std::optional<uint64_t>* value;
};

Unexpected parseError(std::string_view file, std::string_view what, std::string_view line) {
  return makeError(Errc::kParse,
                   std::string(file) + ": " + std::string(what) + ": " + quoteBytes(line));
}

// Splits "key value" at its single space; the value must be a decimal number.
Status readLine(std::string_view file, std::string_view line, std::vector<KeySlot>& slots) {
  const size_t space = line.find(' ');
  if (space == 0 || space == std::string_view::npos) {
    return parseError(file, "not a 'key value' line", line);
  }
  const auto value = parseU64(line.substr(space + 1));
  if (!value) return parseError(file, "value is not a number", line);
  const std::string_view key = line.substr(0, space);
  for (KeySlot& slot : slots) {
    if (slot.key != key) continue;
    if (slot.value->has_value()) return parseError(file, "key appears twice", line);
    *slot.value = *value;
  }
  return Ok{};  // an unknown key: a newer kernel's counter
}

// Fills `slots` from every line of `text`; an empty line is an error.
Status readKeyedLines(std::string_view file, std::string_view text, std::vector<KeySlot> slots) {
  if (text.empty()) return makeError(Errc::kParse, std::string(file) + ": empty");
  Status status = Ok{};
  forEachLine(text, [&](std::string_view line) {
    if (status) status = readLine(file, line, slots);
  });
  return status;
}

Status requireKeys(std::string_view file, std::initializer_list<KeySlot> slots) {
  for (const KeySlot& slot : slots) {
    if (!slot.value->has_value()) {
      return makeError(Errc::kParse, std::string(file) + ": no " + std::string(slot.key) + " line");
    }
  }
  return Ok{};
}

Result<bool> flag(std::string_view file, std::string_view key, uint64_t value) {
  if (value > 1) {
    return makeError(Errc::kParse, std::string(file) + ": " + std::string(key) +
                                       " is not 0 or 1: " + std::to_string(value));
  }
  return value == 1;
}

}  // namespace

Result<OomControlV1> parseOomControl(std::string_view text) {
  static constexpr std::string_view kFile = "memory.oom_control";
  std::optional<uint64_t> disable, under, kills;
  if (auto s = readKeyedLines(
          kFile, text,
          {{"oom_kill_disable", &disable}, {"under_oom", &under}, {"oom_kill", &kills}});
      !s) {
    return Unexpected(s.error());
  }
  if (auto s = requireKeys(kFile, {{"oom_kill_disable", &disable}, {"under_oom", &under}}); !s) {
    return Unexpected(s.error());
  }
  auto disable_flag = flag(kFile, "oom_kill_disable", *disable);
  if (!disable_flag) return Unexpected(disable_flag.error());
  auto under_flag = flag(kFile, "under_oom", *under);
  if (!under_flag) return Unexpected(under_flag.error());
  return OomControlV1{*disable_flag, *under_flag, kills};
}

Result<MemoryEventsV2> parseMemoryEvents(std::string_view text) {
  static constexpr std::string_view kFile = "memory.events";
  std::optional<uint64_t> low, high, max, oom;
  MemoryEventsV2 events;
  if (auto s = readKeyedLines(kFile, text,
                              {{"low", &low},
                               {"high", &high},
                               {"max", &max},
                               {"oom", &oom},
                               {"oom_kill", &events.oom_kill},
                               {"oom_group_kill", &events.oom_group_kill}});
      !s) {
    return Unexpected(s.error());
  }
  if (auto s = requireKeys(kFile, {{"low", &low}, {"high", &high}, {"max", &max}, {"oom", &oom}});
      !s) {
    return Unexpected(s.error());
  }
  events.low = *low;
  events.high = *high;
  events.max = *max;
  events.oom = *oom;
  return events;
}

}  // namespace oomkit::core
