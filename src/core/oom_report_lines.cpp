// Shared helpers, the fast pre-filter, the line classifier, and the first lines of a report:
// the trigger ("invoked oom-killer") and the CPU/PID line with the kernel release.
#include "oom_report_lines.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "oomkit/core/oom_report.h"
#include "oomkit/core/text.h"

namespace oomkit::core::oom_lines {
namespace {

using std::string_view;
constexpr size_t npos = string_view::npos;

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

bool contains(string_view s, string_view part) {
  return s.find(part) != npos;
}

// `needle` with its character number `anchor` at line[i].
bool matchesAt(string_view line, size_t i, size_t anchor, string_view needle) {
  return i >= anchor && line.substr(i - anchor, needle.size()) == needle;
}

// Calls fn(key, value) for each "key=value" of a ", "-separated list. Values may contain ','
// without a blank (nodemask=0-1,3), never ", ".
template <typename Fn>
void forEachKeyEqualsValue(string_view s, Fn&& fn) {
  while (!s.empty()) {
    const size_t sep = s.find(", ");
    const string_view item = trim(s.substr(0, sep));
    const size_t eq = item.find('=');
    if (eq != npos) fn(item.substr(0, eq), item.substr(eq + 1));
    if (sep == npos) break;
    s.remove_prefix(sep + 2);
  }
}

LineKind classifyBracketLine(string_view t) {
  const size_t close = t.find(']');
  if (close == npos) return LineKind::kOther;
  const string_view inside = trim(t.substr(1, close - 1));
  if (inside == "pid") return LineKind::kTableHeader;
  if (!inside.empty() && parseU64(inside)) return LineKind::kTableRow;
  return LineKind::kOther;
}

// Lines known by their first words.
LineKind classifyByStart(string_view t) {
  switch (t.front()) {
    case '[':
      return classifyBracketLine(t);
    case 'C':
      if (t.starts_with("CPU: ") && contains(t, "PID: ")) return LineKind::kCpu;
      break;
    case 'P':
      if (t.starts_with("Pid: ")) return LineKind::kCpu;
      break;
    case 'o':
      if (t.starts_with("oom-kill:")) return LineKind::kSummary;
      if (t.starts_with("oom_reaper: reaped process ")) return LineKind::kReaper;
      break;
    case ',':  // 4.19's summary split in two by a pr_info() instead of pr_cont()
      if (contains(t, "global_oom") || contains(t, "_memcg=")) return LineKind::kSummary;
      break;
    case 'm':
      if (t.starts_with("memory: usage ")) return LineKind::kMemcgUsage;
      break;
    case 'T':
      if (t.starts_with("Task in ")) return LineKind::kMemcgTaskIn;
      if (t.starts_with("Tasks in ") && contains(t, "memory.oom.group")) {
        return LineKind::kOomGroup;
      }
      break;
    case 'M':
      if (t.starts_with("Memory limit reached of cgroup ")) return LineKind::kMemcgLimit;
      if (t.starts_with("Memory cgroup stats for ")) return LineKind::kMemcgStats;
      break;
    case 'K':
      if (t.starts_with("Kernel panic - not syncing: ")) return LineKind::kPanic;
      break;
    case 'O':
      if (t.starts_with("Out of memory and no killable processes")) return LineKind::kNoKillable;
      break;
    default:
      break;
  }
  return LineKind::kOther;
}

bool hasTriggerMarker(string_view t) {
  const size_t at = t.rfind("invoked oom-killer:");
  return at != npos && (at == 0 || t[at - 1] == ' ');
}

// Lines known by words anywhere: their start is a comm or a "<message>: " prefix.
LineKind classifyByContent(string_view t) {
  if (hasTriggerMarker(t)) return LineKind::kTrigger;
  if (contains(t, "Killed process ")) return LineKind::kKilled;
  if ((contains(t, "Kill process ") || contains(t, "kill process ")) && contains(t, ") score ")) {
    return LineKind::kKillDecision;
  }
  if (contains(t, "Manual OOM execution") && (t.starts_with("sysrq") || t.starts_with("SysRq"))) {
    return LineKind::kSysrq;
  }
  if (contains(t, " cpuset=") && contains(t, " mems_allowed=")) return LineKind::kCpuset;
  return LineKind::kOther;
}

// "0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO)": %#x then %pGg's flag names (4.9+).
void applyGfpMask(string_view value, OomTrigger& trigger) {
  const size_t open = value.find('(');
  trigger.gfp_mask = bounded(value.substr(0, open), kMaxNameBytes);
  if (open == npos) return;
  string_view names = value.substr(open + 1);
  names = names.substr(0, names.rfind(')'));
  while (!names.empty() && trigger.gfp_flags.size() < kMaxGfpFlags) {
    const size_t bar = names.find('|');
    const string_view name = names.substr(0, bar);
    if (!name.empty()) trigger.gfp_flags.push_back(bounded(name, kMaxNameBytes));
    if (bar == npos) break;
    names.remove_prefix(bar + 1);
  }
}

void applyTriggerField(string_view key, string_view value, TriggerLine& out) {
  OomTrigger& t = out.trigger;
  if (key == "gfp_mask") {
    applyGfpMask(value, t);
  } else if (key == "order") {
    if (const auto order = toInt32(value)) t.order = *order;
  } else if (key == "oom_score_adj") {
    t.oom_score_adj = toInt32(value);
  } else if (key == "oom_adj") {
    t.oom_adj = toInt32(value);
  } else if (key == "oomkilladj") {
    t.oomkilladj = toInt32(value);
  } else if (key == "nodemask") {
    out.nodemask = bounded(value, kMaxNameBytes);
  }
}

// print_tainted() prints "Not tainted" or "Tainted: " and one letter (or blank) per taint
// flag; the release (init_utsname()->release) is the next word, and it starts with a digit.
std::optional<std::string> kernelRelease(string_view text) {
  constexpr int kMaxTaintWords = 32;
  const size_t at = text.rfind("ainted");
  if (at == npos) return std::nullopt;
  string_view rest = text.substr(at + 6);
  if (!rest.empty() && rest.front() == ':') rest.remove_prefix(1);
  for (int i = 0; i < kMaxTaintWords; ++i) {
    const string_view word = nextToken(rest);
    if (word.empty()) break;
    if (isDigit(word.front())) return bounded(word, kMaxNameBytes);
  }
  return std::nullopt;
}

}  // namespace

std::string bounded(string_view s, size_t max_bytes) {
  return std::string(s.substr(0, max_bytes));
}

std::optional<int32_t> toInt32(string_view s) {
  const auto value = parseI64(s);
  if (!value || *value < std::numeric_limits<int32_t>::min() ||
      *value > std::numeric_limits<int32_t>::max()) {
    return std::nullopt;
  }
  return static_cast<int32_t>(*value);
}

std::optional<uint32_t> toUid(string_view s) {
  const auto value = parseI64(s);
  if (!value || *value < std::numeric_limits<int32_t>::min() ||
      *value > std::numeric_limits<uint32_t>::max()) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(*value);  // "-1" is (uid_t)-1, printed with "%d"
}

std::optional<uint64_t> toKb(string_view s) {
  if (!s.ends_with("kB")) return std::nullopt;
  return parseU64(s.substr(0, s.size() - 2));
}

std::optional<int32_t> takePid(string_view& s) {
  size_t digits = 0;
  while (digits < s.size() && isDigit(s[digits]))
    ++digits;
  const auto pid = toInt32(s.substr(0, digits));
  if (pid) s.remove_prefix(digits);
  return pid;
}

bool mayStartReport(string_view line) {
  // One pass; each needle is looked for at a letter that is rare in log text.
  for (size_t i = 0; i < line.size(); ++i) {
    switch (line[i]) {
      case 'v':
        if (matchesAt(line, i, 2, "invoked oom-killer")) return true;
        break;
      case 'K':
        if (matchesAt(line, i, 0, "Killed process") || matchesAt(line, i, 0, "Kill process")) {
          return true;
        }
        break;
      case 'k':
        if (matchesAt(line, i, 0, "kill process")) return true;
        break;
      case 'O':
        if (matchesAt(line, i, 7, "Manual OOM execution")) return true;
        break;
      case '_':
        if (matchesAt(line, i, 3, "oom_reaper: reaped")) return true;
        break;
      default:
        break;
    }
  }
  return false;
}

LineKind classifyLine(string_view text) {
  if (text.empty()) return LineKind::kOther;
  const LineKind kind = classifyByStart(text);
  return kind != LineKind::kOther ? kind : classifyByContent(text);
}

// mm/oom_kill.c dump_header(), by version (reference/kernel-oom-facts.md §2.8):
//   2.6.2x     "%s invoked oom-killer: gfp_mask=0x%x, order=%d, oomkilladj=%d"
//   2.6.36–3.6 "... gfp_mask=0x%x, order=%d, oom_adj=%d, oom_score_adj=%d"
//   3.7–4.8    "... gfp_mask=0x%x, order=%d, oom_score_adj=%hd"
//   4.9–4.18   "... gfp_mask=%#x(%pGg), nodemask=%*pbl, order=%d, oom_score_adj=%hd"
//   4.19–6.18  "... gfp_mask=%#x(%pGg), order=%d, oom_score_adj=%hd"
// The comm may contain blanks; the kernel's own words follow it, so the last marker is real.
std::optional<TriggerLine> parseTriggerLine(string_view text) {
  constexpr string_view kMarker = "invoked oom-killer:";
  const size_t at = text.rfind(kMarker);
  if (at == npos || (at > 0 && text[at - 1] != ' ')) return std::nullopt;
  TriggerLine out;
  out.trigger.comm = bounded(text.substr(0, at == 0 ? 0 : at - 1), kMaxNameBytes);
  forEachKeyEqualsValue(text.substr(at + kMarker.size()), [&](string_view key, string_view value) {
    applyTriggerField(key, value, out);
  });
  return out;
}

// lib/dump_stack.c dump_stack_print_info(): "CPU: %d PID: %d Comm: %.20s %s %s %.*s" (3.x–6.x;
// 6.x inserts "UID: %u " before PID), in 2.6 "Pid: %d, comm: %.20s %s %s %.*s"; the first
// "%s" is print_tainted(), the second the release.
std::optional<CpuLine> parseCpuLine(string_view text) {
  CpuLine out;
  string_view rest;
  if (text.starts_with("Pid: ")) {
    rest = text.substr(5);
  } else {
    const size_t at = text.find(" PID: ");
    if (at == npos) return std::nullopt;
    rest = text.substr(at + 6);
  }
  out.pid = takePid(rest);
  if (!out.pid) return std::nullopt;
  out.kernel_version = kernelRelease(rest);
  return out;
}

}  // namespace oomkit::core::oom_lines
