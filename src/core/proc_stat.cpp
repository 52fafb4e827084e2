// Format: fs/proc/array.c do_task_stat(), checked against 3.10, 4.19, 5.15 and 6.18.
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "oomkit/core/procfs.h"
#include "oomkit/core/text.h"
#include "oomkit/result.h"

namespace oomkit::core {
namespace {

// Field numbers as proc(5) counts them: 1 is pid, 2 is comm, 3 is state.
constexpr size_t kFirstFieldAfterComm = 3;
constexpr size_t kLastFieldNeeded = 24;  // rss
constexpr size_t kStateField = 3;
constexpr size_t kPpidField = 4;
constexpr size_t kFlagsField = 9;
constexpr size_t kNumThreadsField = 20;
constexpr size_t kStartTimeField = 22;
constexpr size_t kRssField = 24;

// Fields 3..24 as views into the text.
using StatFields = std::array<std::string_view, kLastFieldNeeded + 1>;

Unexpected notANumber(size_t field, std::string_view name, std::string_view token) {
  return makeError(Errc::kParse, "stat: field " + std::to_string(field) + " (" + std::string(name) +
                                     ") is not a number: " + quoteBytes(token));
}

Result<uint64_t> unsignedField(const StatFields& fields, size_t field, std::string_view name) {
  const auto value = parseU64(fields[field]);
  if (!value) return notANumber(field, name, fields[field]);
  return *value;
}

// pid and ppid are pid_t (int); the kernel prints them with %d but never negative.
Result<int32_t> pidField(std::string_view token, size_t field, std::string_view name) {
  const auto value = parseU64(token);
  if (!value || *value > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
    return notANumber(field, name, token);
  }
  return static_cast<int32_t>(*value);
}

// Splits the text after comm's ')' into fields 3..24; the rest of the line is ignored (later
// kernels append fields).
Result<StatFields> splitFields(std::string_view rest) {
  StatFields fields{};
  for (size_t field = kFirstFieldAfterComm; field <= kLastFieldNeeded; ++field) {
    fields[field] = nextToken(rest);
    if (fields[field].empty()) {
      return makeError(Errc::kParse, "stat: has " + std::to_string(field - 1) +
                                         " fields, expected at least " +
                                         std::to_string(kLastFieldNeeded));
    }
  }
  return fields;
}

Status parseNumericFields(const StatFields& fields, ProcStat& stat) {
  const auto ppid = pidField(fields[kPpidField], kPpidField, "ppid");
  if (!ppid) return Unexpected(ppid.error());
  const auto flags = unsignedField(fields, kFlagsField, "flags");
  if (!flags) return Unexpected(flags.error());
  // num_threads is printed signed (seq_put_decimal_ll) but is a count.
  const auto threads = parseI64(fields[kNumThreadsField]);
  if (!threads || *threads < 0) {
    return notANumber(kNumThreadsField, "num_threads", fields[kNumThreadsField]);
  }
  const auto start_time = unsignedField(fields, kStartTimeField, "starttime");
  if (!start_time) return Unexpected(start_time.error());
  const auto rss = unsignedField(fields, kRssField, "rss");
  if (!rss) return Unexpected(rss.error());
  stat.ppid = *ppid;
  stat.flags = *flags;
  stat.num_threads = *threads;
  stat.start_time_ticks = *start_time;
  stat.rss_pages = *rss;
  return Ok{};
}

}  // namespace

Result<ProcStat> parseProcStat(std::string_view text) {
  // comm is printed raw (proc_task_name(..., escape=false)): it may hold ')' and '(' and
  // newlines, but nothing after it can hold ')', so the LAST ')' closes it.
  const size_t open = text.find('(');
  const size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return makeError(Errc::kParse, "stat: no '(comm)' in " + quoteBytes(text));
  }
  ProcStat stat;
  const auto pid = pidField(trim(text.substr(0, open)), 1, "pid");
  if (!pid) return Unexpected(pid.error());
  stat.pid = *pid;
  stat.comm = std::string(text.substr(open + 1, close - open - 1));

  const auto fields = splitFields(text.substr(close + 1));
  if (!fields) return Unexpected(fields.error());
  const std::string_view state = (*fields)[kStateField];
  if (state.size() != 1) {
    return makeError(Errc::kParse,
                     "stat: field 3 (state) is not one character: " + quoteBytes(state));
  }
  stat.state = state[0];
  const Status numbers = parseNumericFields(*fields, stat);
  if (!numbers) return Unexpected(numbers.error());
  return stat;
}

}  // namespace oomkit::core
