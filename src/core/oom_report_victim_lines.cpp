// The lines that name the victim: the kill decision ("Kill process ... score ... or sacrifice
// child", before 5.1), "Killed process ..." in each of its forms, and the oom_reaper's line.
// A comm may contain blanks and parentheses, so each is cut at the kernel's own words that
// follow it, found from the right.
#include <algorithm>
#include <cstdint>
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

// The "%s: " before the words the kernel prints for every kind of OOM: "Out of memory",
// "Memory cgroup out of memory", "Out of memory (oom_kill_allocating_task)".
bool isMemcgMessage(string_view prefix) {
  return prefix.find("Memory cgroup") != npos;
}

// Calls fn(key, value) for "total-vm:33914892kB, anon-rss:..., UID:0 pgtables:104kB
// oom_score_adj:0" and for the RHEL 7 form "UID 1000, total-vm:...".
template <typename Fn>
void forEachColonField(string_view s, Fn&& fn) {
  bool uid_next = false;
  while (true) {
    string_view token = nextToken(s);
    if (token.empty()) return;
    while (!token.empty() && (token.back() == ',' || token.back() == '.'))
      token.remove_suffix(1);
    if (uid_next) {
      fn(string_view("UID"), token);
      uid_next = false;
      continue;
    }
    const size_t colon = token.find(':');
    if (colon != npos) {
      fn(token.substr(0, colon), token.substr(colon + 1));
    } else {
      uid_next = token == "UID";
    }
  }
}

void applyVictimField(string_view key, string_view value, OomVictim& v) {
  if (key == "total-vm") {
    v.total_vm_kb = toKb(value);
  } else if (key == "anon-rss") {
    v.anon_rss_kb = toKb(value);
  } else if (key == "file-rss") {
    v.file_rss_kb = toKb(value);
  } else if (key == "shmem-rss") {
    v.shmem_rss_kb = toKb(value);
  } else if (key == "UID") {
    v.uid = toUid(value);
  } else if (key == "pgtables") {
    v.pgtables_kb = toKb(value);
  } else if (key == "oom_score_adj") {
    v.oom_score_adj = toInt32(value);
  }
}

// Where the comm that starts `s` (just after its '(') ends: the last of the kernel's
// continuations, or the last ')' when nothing follows the comm (2.6.2x, RHEL 5).
size_t killedCommEnd(string_view s) {
  const size_t total_vm = s.rfind(") total-vm:");
  const size_t uid = s.rfind("), UID ");
  if (total_vm != npos && uid != npos) return std::max(total_vm, uid);
  if (total_vm != npos) return total_vm;
  if (uid != npos) return uid;
  return s.rfind(')');
}

}  // namespace

// mm/oom_kill.c oom_kill_process(), 2.6.36–5.0: "%s: Kill process %d (%s) score %u or
// sacrifice child"; 2.6.2x: "%s: kill process %d (%s) score %lu or a child". The victim may
// still change: the child the kernel sacrifices is named by the "Killed process" line.
std::optional<VictimLine> parseKillDecisionLine(string_view text) {
  size_t at = text.find("Kill process ");
  if (at == npos) at = text.find("kill process ");
  if (at == npos) return std::nullopt;
  string_view rest = text.substr(at + 13);
  VictimLine out;
  out.memcg = isMemcgMessage(text.substr(0, at));
  const auto pid = takePid(rest);
  const size_t end = rest.rfind(") score ");
  if (!pid || !rest.starts_with(" (") || end == npos || end < 2) return std::nullopt;
  out.victim.pid = *pid;
  out.victim.comm = bounded(rest.substr(2, end - 2), kMaxNameBytes);
  string_view tail = rest.substr(end + 8);
  const auto score = parseI64(nextToken(tail));
  if (!score || !tail.starts_with(" or ")) return std::nullopt;
  out.victim.score = *score;
  return out;
}

// "Killed process", by version (reference/kernel-oom-facts.md §2.8):
//   2.6.2x        "Killed process %d (%s)"
//   RHEL 5/6      "Killed process %d, UID %d, (%s) total-vm:%lukB, anon-rss:..., file-rss:..."
//   2.6.3x–5.0    "Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, file-rss:%lukB"
//                 (4.5+ and RHEL 7.3 add ", shmem-rss:%lukB"; later RHEL 7 "(%s), UID %u, ...")
//   5.1–6.18      "%s: Killed process ... shmem-rss:%lukB, UID:%u pgtables:%lukB
//                 oom_score_adj:%hd" (__oom_kill_process(); UID and the rest since 5.4)
std::optional<VictimLine> parseKilledLine(string_view text) {
  const size_t at = text.find("Killed process ");
  if (at == npos) return std::nullopt;
  string_view rest = text.substr(at + 15);
  VictimLine out;
  out.memcg = isMemcgMessage(text.substr(0, at));
  const auto pid = takePid(rest);
  if (!pid) return std::nullopt;
  out.victim.pid = *pid;
  if (rest.starts_with(", UID ")) {  // RHEL 5/6
    rest.remove_prefix(6);
    const size_t comma = rest.find(',');
    out.victim.uid = toUid(rest.substr(0, comma));
    rest = comma == npos ? string_view{} : rest.substr(comma + 1);
  }
  if (!rest.starts_with(" (")) return std::nullopt;
  rest.remove_prefix(2);
  const size_t end = killedCommEnd(rest);
  if (end == npos) return std::nullopt;
  out.victim.comm = bounded(rest.substr(0, end), kMaxNameBytes);
  forEachColonField(rest.substr(end + 1), [&](string_view key, string_view value) {
    applyVictimField(key, value, out.victim);
  });
  return out;
}

// mm/oom_kill.c oom_reap_task_mm() (4.6–6.18): "oom_reaper: reaped process %d (%s), now
// anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB".
std::optional<OomReaped> parseReaperLine(string_view text) {
  constexpr string_view kMarker = "oom_reaper: reaped process ";
  if (!text.starts_with(kMarker)) return std::nullopt;
  string_view rest = text.substr(kMarker.size());
  OomReaped out;
  const auto pid = takePid(rest);
  const size_t end = rest.rfind("), now ");
  if (!pid || !rest.starts_with(" (") || end == npos || end < 2) return std::nullopt;
  out.pid = *pid;
  out.comm = bounded(rest.substr(2, end - 2), kMaxNameBytes);
  OomVictim rss;
  forEachColonField(rest.substr(end + 7),
                    [&](string_view key, string_view value) { applyVictimField(key, value, rss); });
  out.anon_rss_kb = rss.anon_rss_kb;
  out.file_rss_kb = rss.file_rss_kb;
  out.shmem_rss_kb = rss.shmem_rss_kb;
  return out;
}

}  // namespace oomkit::core::oom_lines
