// bench/scan_pipelines.h — the scans whose cost the benchmarks measure, defined once for
// snapshot_bench.cpp (Google Benchmark) and scan_cost_main.cpp (the earlyoom comparison).
// Each one is a library code path, called as its user calls it; nothing here reads /proc
// itself.
//
//   victim            sys::VictimFinder(kAdaptive).findGlobal(): what the daemon does to choose
//                     a global victim. One finder object serves every scan of a Scanner, so
//                     this is its steady state (it switches strategy from one scan to the next).
//   victim-prefilter  the same finder fixed to kPrefilter: oom_score for every process, status
//                     and oom_score_adj for the top oom_score group, stat for the tied top.
//   victim-plain      fixed to kPlain: status and oom_score_adj for every process.
//   rank-exact        gatherScope(fields = status|adj) + rankProcesses(): the full exact kill
//                     order, with stat read only for processes whose badness ties.
//   rank              what `oomkit rank` prints: fields status|adj|kernel oom_score (KSCORE).
//   rank-json         what `oomkit rank --json` reads: every field (stat, cmdline, cgroup too).
//
// Every victim scan first reads meminfo and osrelease (readMachineMemory()), as gatherScope()
// does, so both families pay for the same machine-wide reads.
// Header-only so that the bench targets need no library of their own.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "oomkit/core/ranking.h"
#include "oomkit/sys/proc_reader.h"
#include "oomkit/sys/scope_reader.h"
#include "oomkit/sys/victim_finder.h"

namespace oomkit::bench {

enum class Mode { kVictim, kVictimPrefilter, kVictimPlain, kRankExact, kRank, kRankJson };

struct ModeInfo {
  Mode mode;
  std::string_view name;
};

inline constexpr ModeInfo kModes[] = {
    {Mode::kVictim, "victim"},
    {Mode::kVictimPrefilter, "victim-prefilter"},
    {Mode::kVictimPlain, "victim-plain"},
    {Mode::kRankExact, "rank-exact"},
    {Mode::kRank, "rank"},
    {Mode::kRankJson, "rank-json"},
};

inline std::optional<Mode> parseMode(std::string_view name) {
  for (const auto& m : kModes) {
    if (m.name == name) return m.mode;
  }
  return std::nullopt;
}

inline std::string_view modeName(Mode mode) {
  for (const auto& m : kModes) {
    if (m.mode == mode) return m.name;
  }
  return "?";
}

inline bool isVictimMode(Mode mode) {
  return mode == Mode::kVictim || mode == Mode::kVictimPrefilter || mode == Mode::kVictimPlain;
}

// The field set a ranking mode asks gatherScope() for.
inline unsigned rankFields(Mode mode) {
  switch (mode) {
    case Mode::kRankExact:
      return sys::kFieldStatus | sys::kFieldAdj;
    case Mode::kRank:
      return sys::kFieldStatus | sys::kFieldAdj | sys::kFieldKernelScore;
    default:
      return sys::kFieldsAll;
  }
}

struct ScanResult {
  bool ok = false;
  std::string error;
  size_t processes = 0;      // entries listed in the proc root: what the scan had to look at
  int32_t victim_pid = 0;    // 0 when nothing is eligible
  size_t status_reads = 0;   // victim modes: processes whose status + oom_score_adj were read
  bool prefiltered = false;  // victim modes: the oom_score pre-filter was used
  // With ScanDetail: the eligible pids in kill order (ranking modes only), and how many
  // processes the ranking had to read stat for (ties, when stat is not in the field set).
  std::vector<int32_t> kill_order;
  size_t stat_reads = 0;
};

inline ScanResult failed(std::string message) {
  ScanResult result;
  result.error = std::move(message);
  return result;
}

struct ScanDetail {
  bool kill_order = false;
  bool stat_reads = false;
};

// The global scope's parameters, as gatherScope() derives them (same reads, same errors).
inline Result<core::RankParams> globalParams(sys::ProcReader& reader) {
  auto machine = sys::readMachineMemory(reader);
  if (!machine) return Unexpected(machine.error());
  const auto formula = core::formulaForRelease(machine->kernel_release);
  if (!formula) {
    return makeError(Errc::kInvalidArgument,
                     "unknown badness formula for kernel '" + machine->kernel_release + "'");
  }
  core::RankParams params;
  params.formula = *formula;
  params.scale.totalpages = machine->global_totalpages;
  params.scale.page_size_kb = machine->page_size_kb;
  params.global_totalpages = machine->global_totalpages;
  return params;
}

// Runs any mode against one ProcReader. Keeps one VictimFinder per strategy for its whole life,
// as the daemon keeps its finder, so repeated kVictim scans measure the adaptive steady state.
class Scanner {
 public:
  explicit Scanner(sys::ProcReader& reader)
      : reader_(&reader),
        adaptive_(reader, sys::VictimFinder::Strategy::kAdaptive),
        prefilter_(reader, sys::VictimFinder::Strategy::kPrefilter),
        plain_(reader, sys::VictimFinder::Strategy::kPlain) {}
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  ScanResult scan(Mode mode, ScanDetail detail = {}) {
    return isVictimMode(mode) ? victim(finderFor(mode)) : rank(rankFields(mode), detail);
  }

 private:
  sys::VictimFinder& finderFor(Mode mode) {
    if (mode == Mode::kVictimPrefilter) return prefilter_;
    if (mode == Mode::kVictimPlain) return plain_;
    return adaptive_;
  }

  ScanResult victim(sys::VictimFinder& finder) {
    ScanResult result;
    const auto params = globalParams(*reader_);
    if (!params) return failed(params.error().message);
    auto choice = finder.findGlobal(*params);
    if (!choice) return failed(choice.error().message);
    result.ok = true;
    result.processes = choice->listed;
    result.status_reads = choice->status_reads;
    result.prefiltered = choice->prefiltered;
    if (choice->victim) result.victim_pid = choice->victim->pid;
    return result;
  }

  ScanResult rank(unsigned fields, ScanDetail detail) {
    ScanResult result;
    sys::ScopeRequest request;
    request.fields = fields;
    auto view = sys::gatherScope(*reader_, request);
    if (!view) return failed(view.error().message);
    const auto ranked = core::rankProcesses(view->processes, view->params);
    result.ok = true;
    result.processes = view->counters.listed;
    if (!ranked.empty() && ranked.front().rank == 1) {
      result.victim_pid = view->processes[ranked.front().index].pid;
    }
    if (detail.kill_order) {
      for (const auto& entry : ranked) {
        if (entry.rank != 0) result.kill_order.push_back(view->processes[entry.index].pid);
      }
    }
    if (detail.stat_reads) {
      result.stat_reads = fields & sys::kFieldStat
                              ? view->processes.size()
                              : core::tiedProcesses(view->processes, view->params).size();
    }
    return result;
  }

  sys::ProcReader* reader_;
  sys::VictimFinder adaptive_;
  sys::VictimFinder prefilter_;
  sys::VictimFinder plain_;
};

// --- the cross-check: every mode against the full exact ranking ---------------------------

enum class Verdict { kAgreed, kUnsettled, kMismatched };

// `order` restricted to the pids in `keep`, order kept.
inline std::vector<int32_t> restrictedTo(const std::vector<int32_t>& order,
                                         const std::unordered_set<int32_t>& keep) {
  std::vector<int32_t> out;
  for (const int32_t pid : order) {
    if (keep.contains(pid)) out.push_back(pid);
  }
  return out;
}

// Compares a scan `x` with the rank-exact scans made just before (`before`) and just after
// (`after`) it, all three with ScanDetail::kill_order. When those two disagree, the machine changed
// meanwhile and nothing can be said (unsettled); so too when `x` chose a process that one of
// them did not see (it was born or exited meanwhile). Otherwise `x` must name the same victim,
// and a ranking mode must give the same kill order over the pids all three scans saw.
inline Verdict compareWithExact(const ScanResult& before, const ScanResult& x,
                                const ScanResult& after, bool compare_order) {
  if (before.victim_pid != after.victim_pid) return Verdict::kUnsettled;
  if (x.victim_pid != before.victim_pid) {
    const auto saw = [pid = x.victim_pid](const ScanResult& r) {
      return std::find(r.kill_order.begin(), r.kill_order.end(), pid) != r.kill_order.end();
    };
    return saw(before) && saw(after) ? Verdict::kMismatched : Verdict::kUnsettled;
  }
  if (!compare_order) return Verdict::kAgreed;
  const std::unordered_set<int32_t> in_x(x.kill_order.begin(), x.kill_order.end());
  const std::unordered_set<int32_t> in_after(after.kill_order.begin(), after.kill_order.end());
  std::unordered_set<int32_t> common;
  for (const int32_t pid : before.kill_order) {
    if (in_x.contains(pid) && in_after.contains(pid)) common.insert(pid);
  }
  const auto b = restrictedTo(before.kill_order, common);
  if (b != restrictedTo(after.kill_order, common)) return Verdict::kUnsettled;
  return b == restrictedTo(x.kill_order, common) ? Verdict::kAgreed : Verdict::kMismatched;
}

}  // namespace oomkit::bench
