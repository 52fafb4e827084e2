// The lines of a kernel OOM report, one matcher each (internal to oomkit_core).
//
// Every function takes one kernel message (the text after the log prefix, see log_line.h) and
// either recognises it or returns nullopt/false; none of them assumes the line is well formed.
// The format of each line, the kernel function that prints it and the versions it was checked
// against are given at the definition. Pure: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oomkit/core/oom_report.h"

namespace oomkit::core::oom_lines {

// Caps on what one report keeps from hostile input. Real values are far smaller: a comm is at
// most 15 bytes (TASK_COMM_LEN), 60 once /dev/kmsg escapes it as "\xNN"; a cgroup path is at
// most PATH_MAX.
inline constexpr size_t kMaxNameBytes = 256;
inline constexpr size_t kMaxPathBytes = 4096;
inline constexpr size_t kMaxTasks = 100000;
inline constexpr size_t kMaxGfpFlags = 64;

// The first characters of `s`, at most `max_bytes` of them, as a string.
std::string bounded(std::string_view s, size_t max_bytes);
// A decimal int32 (a pid, an adj, an order); nullopt when out of range.
std::optional<int32_t> toInt32(std::string_view s);
// A uid as the kernel prints it: "%u", or "%d" (dump_tasks(), so 4294967295 reads "-1").
std::optional<uint32_t> toUid(std::string_view s);
// "1234kB" -> 1234.
std::optional<uint64_t> toKb(std::string_view s);
// The pid at the start of `s` ("8316 (memcg_exp)..."); `s` keeps the rest.
std::optional<int32_t> takePid(std::string_view& s);

// True when `line` (a raw log line, prefix and all) may start or close a report. The cheap
// test that lets the parser skip the other 99.9% of a log without splitting prefixes.
bool mayStartReport(std::string_view line);

enum class LineKind {
  kOther,
  kTrigger,       // "<comm> invoked oom-killer: gfp_mask=..."
  kCpu,           // "CPU: 0 PID: 8316 Comm: ..." / "Pid: 1234, comm: ..."
  kTableHeader,   // "[  pid  ]   uid  tgid total_vm ..."
  kTableRow,      // "[   8316]     0  8316 ..."
  kSummary,       // "oom-kill:constraint=..."
  kKillDecision,  // "Kill process 6576 (mysqld) score 651 or sacrifice child"
  kKilled,        // "Killed process ..."
  kReaper,        // "oom_reaper: reaped process ..."
  kSysrq,         // "sysrq: Manual OOM execution"
  kNoKillable,    // "Out of memory and no killable processes..."
  kPanic,         // "Kernel panic - not syncing: ..."
  kOomGroup,      // "Tasks in X are going to be killed due to memory.oom.group set"
  kMemcgTaskIn,   // "Task in X killed as a result of limit of Y"
  kMemcgLimit,    // "Memory limit reached of cgroup X"
  kMemcgUsage,    // "memory: usage 204800kB, limit 204800kB, failcnt 0"
  kMemcgStats,    // "Memory cgroup stats for X:"
  kCpuset,        // "<comm> cpuset=<name> mems_allowed=<nodes>"
};

// Which line this is, by its fixed words only; the parse functions below check the rest.
LineKind classifyLine(std::string_view text);

struct TriggerLine {
  OomTrigger trigger;
  std::optional<std::string> nodemask;
};
std::optional<TriggerLine> parseTriggerLine(std::string_view text);

struct CpuLine {
  std::optional<int32_t> pid;
  std::optional<std::string> kernel_version;
};
std::optional<CpuLine> parseCpuLine(std::string_view text);

struct VictimLine {
  OomVictim victim;
  bool memcg = false;  // the "Memory cgroup out of memory: " prefix
};
std::optional<VictimLine> parseKillDecisionLine(std::string_view text);
std::optional<VictimLine> parseKilledLine(std::string_view text);
std::optional<OomReaped> parseReaperLine(std::string_view text);

// These fill `report` from one line of their kind and return false if it does not parse.
bool applySummaryLine(std::string_view text, OomReport& report);
bool applyMemcgLine(LineKind kind, std::string_view text, OomReport& report);
bool applyCpusetLine(std::string_view text, OomReport& report);
std::optional<std::string> parseOomGroupLine(std::string_view text);
std::optional<std::string> parsePanicLine(std::string_view text);

// The task table of dump_tasks(), read through its header's column names.
enum class TaskColumn : uint8_t {
  kUnknown,
  kUid,
  kTgid,
  kTotalVm,
  kRss,
  kRssAnon,
  kRssFile,
  kRssShmem,
  kPgtablesBytes,
  kNrPtes,
  kNrPmds,
  kNrPuds,
  kSwapents,
  kCpu,
  kOomAdj,
  kOomScoreAdj,
};
struct TaskTableLayout {
  std::vector<TaskColumn> columns;  // the numeric columns after "[ pid ]", in order
  bool has_oom_score_adj = false;
};
std::optional<TaskTableLayout> parseTaskTableHeader(std::string_view text);
std::optional<OomTask> parseTaskTableRow(std::string_view text, const TaskTableLayout& layout);

}  // namespace oomkit::core::oom_lines
