// Format: fs/proc/array.c proc_pid_status() and fs/proc/task_mmu.c task_mem(), checked against
// 3.10, 4.9, 4.19, 5.15 and 6.18. Each line is "Key:\tvalue".
#include <array>
#include <cstdint>
#include <limits>
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

using Handler = Status (*)(std::string_view value, ProcStatus& status);

// Handlers' errors say what is wrong with the value; parseLine() prefixes "status: <Key>: ".
Unexpected badValue(std::string_view what, std::string_view value) {
  return makeError(Errc::kParse, std::string(what) + ": " + quoteBytes(trim(value)));
}

std::optional<int32_t> parsePid(std::string_view s) {
  const auto value = parseU64(s);
  if (!value || *value > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
    return std::nullopt;
  }
  return static_cast<int32_t>(*value);
}

// The kernel escapes Name: (proc_task_name(..., escape=true): '\n' and '\\' since 4.x through
// string_escape_str(), the same two by hand in 3.10 task_name()), so one line holds it. The
// value is everything after the one '\t', untrimmed: a name may begin or end with blanks.
Status onName(std::string_view value, ProcStatus& status) {
  if (!value.empty() && value.front() == '\t') value.remove_prefix(1);
  status.name = unescapeKernelString(value);
  return Ok{};
}

// "R (running)": get_task_state() prints the letter, a space and the name in parentheses.
Status onState(std::string_view value, ProcStatus& status) {
  const std::string_view v = trim(value);
  const bool letter = !v.empty() && ((v[0] >= 'A' && v[0] <= 'Z') || (v[0] >= 'a' && v[0] <= 'z'));
  if (!letter || (v.size() > 1 && v[1] != ' ')) {
    return badValue("does not start with a state letter", value);
  }
  status.state = v[0];
  return Ok{};
}

Status onTgid(std::string_view value, ProcStatus& status) {
  const auto pid = parsePid(trim(value));
  if (!pid) return badValue("is not a pid", value);
  status.tgid = *pid;
  return Ok{};
}

Status onPpid(std::string_view value, ProcStatus& status) {
  const auto pid = parsePid(trim(value));
  if (!pid) return badValue("is not a pid", value);
  status.ppid = *pid;
  return Ok{};
}

// "Uid:\treal\teffective\tsaved\tfs" (task_state()); all four are checked, two are kept.
Status onUid(std::string_view value, ProcStatus& status) {
  constexpr size_t kUidValues = 4;
  std::array<uint32_t, kUidValues> uids{};
  std::string_view rest = value;
  for (size_t i = 0; i < kUidValues; ++i) {
    const std::string_view token = nextToken(rest);
    if (token.empty()) {
      return badValue("has " + std::to_string(i) + " values, expected 4", value);
    }
    const auto uid = parseU64(token);
    if (!uid || *uid > std::numeric_limits<uint32_t>::max()) {
      return badValue("is not a list of uids", value);
    }
    uids[i] = static_cast<uint32_t>(*uid);
  }
  if (!trim(rest).empty()) return badValue("has more than 4 values", value);
  status.uid = uids[0];
  status.euid = uids[1];
  return Ok{};
}

// One handler per "   1234 kB" field; `Field` is the member it fills.
template <uint64_t ProcStatus::*Field>
Status onKb(std::string_view value, ProcStatus& status) {
  const auto kb = parseKb(value);
  if (!kb) return badValue("is not '<n> kB'", value);
  status.*Field = *kb;
  return Ok{};
}

// task_mem() prints the whole Vm* block, VmRSS included, iff the task has an mm.
Status onVmRss(std::string_view value, ProcStatus& status) {
  status.has_mm = true;
  return onKb<&ProcStatus::vm_rss_kb>(value, status);
}

Status onRssAnon(std::string_view value, ProcStatus& status) {
  status.has_rss_split = true;
  return onKb<&ProcStatus::rss_anon_kb>(value, status);
}

// CapEff, SigPnd, ShdPnd: 16 hexadecimal digits.
template <uint64_t ProcStatus::*Field>
Status onHex(std::string_view value, ProcStatus& status) {
  const auto bits = parseHex64(trim(value));
  if (!bits) return badValue("is not hexadecimal", value);
  status.*Field = *bits;
  return Ok{};
}

Status onKthread(std::string_view value, ProcStatus& status) {
  const std::string_view v = trim(value);
  if (v != "0" && v != "1") return badValue("is neither 0 nor 1", value);
  status.kthread = v == "1";
  return Ok{};
}

Status onThreads(std::string_view value, ProcStatus& status) {
  const auto threads = parseI64(trim(value));
  if (!threads || *threads < 0) return badValue("is not a count", value);
  status.threads = *threads;
  return Ok{};
}

// "NSpid:\t42\t1": the pid in its own namespace and each ancestor's, outermost first.
Status onNsPid(std::string_view value, ProcStatus& status) {
  std::vector<int32_t> pids;
  std::string_view rest = value;
  for (std::string_view token = nextToken(rest); !token.empty(); token = nextToken(rest)) {
    const auto pid = parsePid(token);
    if (!pid) return badValue("is not a list of pids", value);
    pids.push_back(*pid);
  }
  if (pids.empty()) return badValue("is empty", value);
  status.ns_pid = std::move(pids);
  return Ok{};
}

struct KeyHandler {
  std::string_view key;
  Handler handler;
  bool required;
};

// Name, State, Tgid, PPid and Uid are printed for every task on every kernel since 2.6.
constexpr std::array kHandlers = {
    KeyHandler{"Name", onName, true},
    KeyHandler{"State", onState, true},
    KeyHandler{"Tgid", onTgid, true},
    KeyHandler{"PPid", onPpid, true},
    KeyHandler{"Uid", onUid, true},
    KeyHandler{"VmRSS", onVmRss, false},
    KeyHandler{"RssAnon", onRssAnon, false},
    KeyHandler{"RssFile", onKb<&ProcStatus::rss_file_kb>, false},
    KeyHandler{"RssShmem", onKb<&ProcStatus::rss_shmem_kb>, false},
    KeyHandler{"VmSwap", onKb<&ProcStatus::vm_swap_kb>, false},
    KeyHandler{"VmPTE", onKb<&ProcStatus::vm_pte_kb>, false},
    KeyHandler{"VmPMD", onKb<&ProcStatus::vm_pmd_kb>, false},
    KeyHandler{"SigPnd", onHex<&ProcStatus::sig_pnd>, false},
    KeyHandler{"ShdPnd", onHex<&ProcStatus::shd_pnd>, false},
    KeyHandler{"CapEff", onHex<&ProcStatus::cap_eff>, false},
    KeyHandler{"Kthread", onKthread, false},
    KeyHandler{"Threads", onThreads, false},
    KeyHandler{"NSpid", onNsPid, false},
};

using SeenKeys = std::array<bool, kHandlers.size()>;

// Dispatches one line to its handler; lines with other keys, or no key, are ignored.
Status parseLine(std::string_view line, ProcStatus& status, SeenKeys& seen) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return Ok{};
  const std::string_view key = line.substr(0, colon);
  for (size_t i = 0; i < kHandlers.size(); ++i) {
    if (kHandlers[i].key != key) continue;
    seen[i] = true;
    const Status result = kHandlers[i].handler(line.substr(colon + 1), status);
    if (!result) return Unexpected(result.error().wrap("status: " + std::string(key)));
    return Ok{};
  }
  return Ok{};
}

}  // namespace

Result<ProcStatus> parseProcStatus(std::string_view text) {
  ProcStatus status;
  SeenKeys seen{};
  Status failure = Ok{};
  forEachLine(text, [&](std::string_view line) {
    if (failure) failure = parseLine(line, status, seen);
  });
  if (!failure) return Unexpected(failure.error());
  for (size_t i = 0; i < kHandlers.size(); ++i) {
    if (kHandlers[i].required && !seen[i]) {
      return makeError(Errc::kParse, "status: no " + std::string(kHandlers[i].key) + ": line");
    }
  }
  return status;
}

}  // namespace oomkit::core
