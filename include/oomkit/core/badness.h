// oomkit/core/badness.h — oom_badness() and /proc/PID/oom_score, exactly as the kernel
// computes them, for each generation of the formula.
//
// Source: mm/oom_kill.c oom_badness() and fs/proc/base.c proc_oom_score() in 3.10, 4.13,
// 5.x and 6.x trees (see ../shared/reference/kernel-oom-facts.md §1). All arithmetic is the
// kernel's: signed 64-bit longs, integer division truncating toward zero, totalpages / 1000
// taken before the multiplication by oom_score_adj. Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "oomkit/core/process.h"

namespace oomkit::core {

// The generations of oom_badness() whose results differ.
enum class Formula {
  kCurrent,  // 5.9+: rss + swap + pgtables + adj; LONG_MIN for ineligible; score 0..2000
  kV4_17,    // 4.17–5.8: as current but unsigned, minimum 1, 0 = ineligible; score 0..1000
  kV3_14,    // 3.14–4.16: CAP_SYS_ADMIN gets 3% of its own usage off ("root bonus")
  kV3_10,    // 3.10–3.13: CAP_SYS_ADMIN gets 30 per mille of totalpages off (adj -= 30)
};

inline constexpr int32_t kOomScoreAdjMin = -1000;  // include/uapi/linux/oom.h
inline constexpr int32_t kOomScoreAdjMax = 1000;

// "current", "4.17", "3.14", "3.10".
std::string_view formulaName(Formula formula);
// Which kernels use the formula, for help text: "5.9 and later", ...
std::string_view formulaKernels(Formula formula);
// Accepts the names above and "5.9" as an alias of "current".
std::optional<Formula> parseFormula(std::string_view name);
// The formula of a kernel release string (/proc/sys/kernel/osrelease, "6.18.44-fc-v669",
// "3.10.0-514.el7.x86_64"); nullopt when the version cannot be read or predates 3.10.
std::optional<Formula> formulaForRelease(std::string_view release);

// Why oom_badness() refuses a process (mm/oom_kill.c oom_unkillable_task() and the checks
// after find_lock_task_mm()). The kernel also skips MMF_OOM_SKIP mms and vfork children;
// neither is visible from /proc (docs/ranking.md says what that means in practice).
enum class Eligibility {
  kEligible,
  kGlobalInit,    // is_global_init(): pid 1
  kKernelThread,  // PF_KTHREAD
  kNoMemory,      // no thread with an mm: zombies and processes past exit_mm()
  kAdjMin,        // oom_score_adj == OOM_SCORE_ADJ_MIN (-1000)
};
std::string_view eligibilityName(Eligibility eligibility);  // "eligible", "init", ...

Eligibility eligibilityOf(const Process& process);

// The terms of the sum, in pages, so that `oomkit explain` can show its work.
struct BadnessTerms {
  int64_t rss_pages = 0;         // get_mm_rss(): anon + file + shmem
  int64_t swap_pages = 0;        // MM_SWAPENTS
  int64_t pgtables_pages = 0;    // mm_pgtables_bytes / PAGE_SIZE (nr_ptes + nr_pmds before 4.15)
  int64_t root_bonus_pages = 0;  // subtracted: 3.14–4.16 only
  int64_t adj = 0;               // oom_score_adj as used (3.10: minus 30 for CAP_SYS_ADMIN)
  int64_t adj_unit_pages = 0;    // totalpages / 1000
  int64_t adj_pages = 0;         // adj * adj_unit_pages
};

struct Badness {
  Eligibility eligibility = Eligibility::kEligible;
  BadnessTerms terms;
  // The kernel's return value for an eligible process, in pages. Pre-5.9 formulas clamp it
  // to at least 1. Meaningless when not eligible (the kernel returns LONG_MIN or 0).
  int64_t points = 0;

  bool eligible() const { return eligibility == Eligibility::kEligible; }
};

// What the memory figures are measured against.
struct BadnessScale {
  uint64_t totalpages = 1;    // of the OOM scope: global or the memcg's mem_cgroup_get_max()
  uint64_t page_size_kb = 4;  // PAGE_SIZE / 1024
};

// oom_badness(process, totalpages) under `formula`.
Badness computeBadness(const Process& process, const BadnessScale& scale, Formula formula);

// /proc/PID/oom_score for a badness computed at the GLOBAL scale (proc_oom_score() always
// uses totalram + total swap, even for a process in a memory cgroup).
// 5.9+: 0 when ineligible, else (1000 + points * 1000 / totalpages) * 2 / 3.
// Before: points * 1000 / totalpages, 0 when ineligible.
int64_t oomScore(const Badness& badness, uint64_t global_totalpages, Formula formula);

// Whether, among processes of equal badness, the one met LATER in the kernel's task walk is
// chosen: true since the "prefer thread group leaders" tie rule went away (5.x: equal points
// replace the chosen task), false for older kernels (the first one found stays).
bool laterWinsTies(Formula formula);

}  // namespace oomkit::core
