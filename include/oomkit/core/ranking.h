// oomkit/core/ranking.h — victim selection as select_bad_process()/oom_evaluate_task() do
// it, and the full kill order that repeated OOMs would follow.
//
// The kernel walks tasks in a fixed order (for_each_process for a global OOM,
// mem_cgroup_scan_tasks for a memcg OOM) and keeps the highest badness; on a tie the
// formula decides whether the earlier or the later task stays (laterWinsTies). Callers give
// processes in that walk order: sortInWalkOrder() builds it from what /proc shows, and
// docs/ranking.md explains the mapping. Pure: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "oomkit/core/badness.h"
#include "oomkit/core/process.h"

namespace oomkit::core {

// Puts processes in the order the kernel's task walk meets them.
// Global walk (init_task.tasks): processes are appended at fork, so the order is fork order,
// which /proc shows as (start time, then pid within one clock tick).
// Memcg walk: cgroups in pre-order, siblings in creation order, given as `memcg_preorder`
// (paths as /proc/PID/cgroup shows them); within one cgroup, fork order as above. Processes
// whose memcg_path is not listed go last. An empty `memcg_preorder` means the global walk.
void sortInWalkOrder(std::vector<Process>& processes,
                     std::span<const std::string> memcg_preorder = {});

struct RankParams {
  Formula formula = Formula::kCurrent;
  BadnessScale scale;              // the OOM scope's totalpages
  uint64_t global_totalpages = 1;  // for oom_score, which is always global
};

struct RankedProcess {
  size_t index = 0;  // into the input span
  Badness badness;
  int64_t oom_score = 0;  // our prediction of /proc/PID/oom_score
  size_t rank = 0;        // 1 = the next victim; 0 = never chosen (ineligible)
};

// Our prediction of /proc/PID/oom_score: badness against the machine's totalpages, whatever
// the scope of `params` (proc_oom_score() always uses totalram_pages() + total_swap_pages).
int64_t predictedOomScore(const Process& process, const RankParams& params);

// Every process, eligible ones first in kill order (rank 1, 2, ...), then the ineligible
// ones in walk order. `processes` must be in walk order.
std::vector<RankedProcess> rankProcesses(std::span<const Process> processes,
                                         const RankParams& params);

// The index of the process select_bad_process() would choose, computed the kernel's way
// (one pass, keep the best); nullopt when nothing is eligible ("Out of memory and no
// killable processes"). Always agrees with the first entry of rankProcesses().
std::optional<size_t> selectVictim(std::span<const Process> processes, const RankParams& params);

// Indices of the eligible processes that share the highest badness: the only ones whose
// walk order matters to selectVictim(). Lets a scan read identity (stat) for these alone.
std::vector<size_t> topCandidates(std::span<const Process> processes, const RankParams& params);

// Indices of the eligible processes whose badness equals another eligible process's: the only
// ones whose walk order (start time) changes the ranking.
std::vector<size_t> tiedProcesses(std::span<const Process> processes, const RankParams& params);

// The highest oom_score_adj (in -999..1000) at which `process` would no longer be chosen
// before a rival of `rival_points` badness; nullopt when none is low enough (only -1000,
// which makes it ineligible, protects it). `wins_ties` says whether the process would win a
// tie with the rival (laterWinsTies() and their walk order decide).
std::optional<int32_t> highestAdjBelow(const Process& process, int64_t rival_points, bool wins_ties,
                                       const RankParams& params);

}  // namespace oomkit::core
