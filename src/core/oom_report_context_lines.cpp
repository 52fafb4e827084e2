// The lines that say where the OOM happened: the "oom-kill:" summary (4.19+), the memcg lines
// (mm/memcontrol.c), the cpuset line (<4.19), memory.oom.group, and a panic.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "oomkit/core/oom_report.h"
#include "oomkit/core/text.h"

#include "oom_report_lines.h"

namespace oomkit::core::oom_lines {
namespace {

using std::string_view;
constexpr size_t npos = string_view::npos;

// mm/oom_kill.c dump_oom_summary(), cpuset_print_current_mems_allowed() and
// mem_cgroup_print_oom_context(), in the order they print. Values may contain ','
// (nodemask=0-1,3; a cgroup path), so each value runs up to the next key found.
constexpr std::array<string_view, 10> kSummaryKeys = {
    "constraint=", "nodemask=",   "cpuset=", "mems_allowed=", "global_oom",
    "oom_memcg=",  "task_memcg=", "task=",   "pid=",          "uid="};

// The ',' or ':' before the first `key` at or after `from`, or npos.
size_t findSummaryKey(string_view text, string_view key, size_t from) {
  for (size_t at = text.find(key, from); at != npos; at = text.find(key, at + 1)) {
    if (at > 0 && (text[at - 1] == ',' || text[at - 1] == ':')) return at - 1;
  }
  return npos;
}

void applySummaryVictim(string_view task, string_view pid, string_view uid, OomReport& r) {
  const auto victim_pid = toInt32(pid);
  if (!victim_pid) return;
  if (!r.victim) {
    r.victim = OomVictim{};
    r.victim->pid = *victim_pid;
  }
  if (r.victim->pid != *victim_pid) return;  // the kill line named another task; it wins
  if (r.victim->comm.empty()) r.victim->comm = bounded(task, kMaxNameBytes);
  if (!r.victim->uid) r.victim->uid = toUid(uid);
}

void applySummaryValue(size_t key, string_view value, OomReport& r) {
  switch (key) {
    case 0:
      r.constraint = bounded(value, kMaxNameBytes);
      if (value == "CONSTRAINT_MEMCG") r.memcg = true;
      break;
    case 1:
      r.nodemask = bounded(value, kMaxNameBytes);
      break;
    case 2:
      r.cpuset = bounded(value, kMaxPathBytes);
      break;
    case 3:
      r.mems_allowed = bounded(value, kMaxNameBytes);
      break;
    case 5:
      r.memcg = true;
      r.memcg_path = bounded(value, kMaxPathBytes);
      break;
    case 6:
      r.task_memcg = bounded(value, kMaxPathBytes);
      break;
    default:
      break;
  }
}

}  // namespace

// "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,
// oom_memcg=/feas_test,task_memcg=/feas_test,task=memcg_exp,pid=8316,uid=0" (4.19–6.18; a
// global OOM has ",global_oom" instead of oom_memcg). Also takes the second half of the line
// that 4.19 split in two.
bool applySummaryLine(string_view text, OomReport& report) {
  constexpr size_t kKeys = kSummaryKeys.size();
  std::array<size_t, kKeys> at{};
  size_t cursor = 0;
  for (size_t k = 0; k < kKeys; ++k) {
    at[k] = findSummaryKey(text, kSummaryKeys[k], cursor);
    if (at[k] != npos) cursor = at[k] + 1 + kSummaryKeys[k].size();
  }
  std::array<string_view, kKeys> values{};
  bool any = false;
  for (size_t k = 0; k < kKeys; ++k) {
    if (at[k] == npos) continue;
    size_t end = text.size();
    for (size_t next = k + 1; next < kKeys && end == text.size(); ++next) {
      if (at[next] != npos) end = at[next];
    }
    const size_t begin = at[k] + 1 + kSummaryKeys[k].size();
    values[k] = text.substr(begin, end > begin ? end - begin : 0);
    applySummaryValue(k, values[k], report);
    any = true;
  }
  applySummaryVictim(values[7], values[8], values[9], report);
  return any;
}

namespace {

// "204800kB," -> 204800.
std::optional<uint64_t> takeKb(string_view& rest) {
  string_view token = nextToken(rest);
  if (token.ends_with(",")) token.remove_suffix(1);
  return toKb(token);
}

// "Task in %s killed as a result of limit of %s" (mem_cgroup_print_oom_info(), 3.x–4.18).
bool applyTaskInLine(string_view text, OomReport& report) {
  constexpr string_view kStart = "Task in ";
  constexpr string_view kMiddle = " killed as a result of limit of ";
  const size_t mid = text.rfind(kMiddle);
  if (!text.starts_with(kStart) || mid == npos || mid < kStart.size()) return false;
  report.task_memcg = bounded(text.substr(kStart.size(), mid - kStart.size()), kMaxPathBytes);
  report.memcg_path = bounded(text.substr(mid + kMiddle.size()), kMaxPathBytes);
  return true;
}

// "memory: usage %llukB, limit %llukB, failcnt %lu" (mem_cgroup_print_oom_meminfo(), 3.x–6.18).
bool applyUsageLine(string_view text, OomReport& report) {
  constexpr string_view kStart = "memory: usage ";
  if (!text.starts_with(kStart)) return false;
  string_view rest = text.substr(kStart.size());
  const auto usage = takeKb(rest);
  if (!usage || nextToken(rest) != "limit") return false;
  report.memcg_usage_kb = usage;
  report.memcg_limit_kb = takeKb(rest);
  return true;
}

// "Memory cgroup stats for %s:" (the same function; the first one is the OOM memcg). 6.x ends
// the line with ':'; 3.x–4.x continue it with the stats ("...: cache:0KB rss:...").
bool applyStatsLine(string_view text, OomReport& report) {
  constexpr string_view kStart = "Memory cgroup stats for ";
  if (!text.starts_with(kStart)) return false;
  string_view path = text.substr(kStart.size());
  const size_t colon = path.find(": ");
  path = colon != npos ? path.substr(0, colon) : path.substr(0, path.rfind(':'));
  if (!report.memcg_path) report.memcg_path = bounded(path, kMaxPathBytes);
  return true;
}

}  // namespace

// mm/memcontrol.c prints these for memcg OOMs only, so each one also marks the report memcg.
bool applyMemcgLine(LineKind kind, string_view text, OomReport& report) {
  constexpr string_view kLimitReached = "Memory limit reached of cgroup ";
  bool applied = false;
  if (kind == LineKind::kMemcgTaskIn) {
    applied = applyTaskInLine(text, report);
  } else if (kind == LineKind::kMemcgLimit && text.starts_with(kLimitReached)) {
    report.memcg_path = bounded(text.substr(kLimitReached.size()), kMaxPathBytes);
    applied = true;
  } else if (kind == LineKind::kMemcgUsage) {
    applied = applyUsageLine(text, report);
  } else if (kind == LineKind::kMemcgStats) {
    applied = applyStatsLine(text, report);
  }
  if (applied) report.memcg = true;
  return applied;
}

// "<comm> cpuset=<name> mems_allowed=<nodes>" (cpuset_print_task_mems_allowed(), <4.19).
bool applyCpusetLine(string_view text, OomReport& report) {
  const size_t cpuset = text.rfind(" cpuset=");
  const size_t mems = text.rfind(" mems_allowed=");
  if (cpuset == npos || mems == npos || mems < cpuset) return false;
  report.cpuset = bounded(text.substr(cpuset + 8, mems - cpuset - 8), kMaxPathBytes);
  report.mems_allowed = bounded(text.substr(mems + 14), kMaxNameBytes);
  return true;
}

// "Tasks in %s are going to be killed due to memory.oom.group set"
// (mm/memcontrol.c mem_cgroup_print_oom_group(), 4.19–6.18).
std::optional<std::string> parseOomGroupLine(string_view text) {
  constexpr string_view kTail = " are going to be killed due to memory.oom.group set";
  const size_t tail = text.rfind(kTail);
  if (!text.starts_with("Tasks in ") || tail == npos || tail < 9) return std::nullopt;
  return bounded(text.substr(9, tail - 9), kMaxPathBytes);
}

// "Kernel panic - not syncing: %s" (kernel/panic.c panic()).
std::optional<std::string> parsePanicLine(string_view text) {
  constexpr string_view kMarker = "Kernel panic - not syncing: ";
  if (!text.starts_with(kMarker)) return std::nullopt;
  return bounded(text.substr(kMarker.size()), kMaxPathBytes);
}

}  // namespace oomkit::core::oom_lines
