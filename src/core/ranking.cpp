#include "oomkit/core/ranking.h"

#include <algorithm>
#include <limits>
#include <string_view>
#include <tuple>
#include <unordered_map>

namespace oomkit::core {
namespace {

using WalkKey = std::tuple<size_t, uint64_t, int32_t>;  // cgroup position, start, pid

std::unordered_map<std::string_view, size_t> positionsOf(std::span<const std::string> paths) {
  std::unordered_map<std::string_view, size_t> positions;
  for (size_t i = 0; i < paths.size(); ++i)
    positions.emplace(paths[i], i);
  return positions;
}

// True iff `candidate` replaces `chosen` in oom_evaluate_task(): strictly more points, or
// equal points where the kernel lets the later task win (5.x: `points < chosen_points`
// skips, so equality selects).
bool replacesChosen(int64_t candidate, int64_t chosen, Formula formula) {
  return candidate > chosen || (candidate == chosen && laterWinsTies(formula));
}

}  // namespace

void sortInWalkOrder(std::vector<Process>& processes, std::span<const std::string> memcg_preorder) {
  const auto positions = positionsOf(memcg_preorder);
  const auto key = [&positions](const Process& p) {
    size_t position = 0;
    if (!positions.empty()) {
      const auto it = positions.find(p.memcg_path);
      position = it == positions.end() ? std::numeric_limits<size_t>::max() : it->second;
    }
    return WalkKey{position, p.start_time_ticks, p.pid};
  };
  std::stable_sort(processes.begin(), processes.end(),
                   [&key](const Process& a, const Process& b) { return key(a) < key(b); });
}

int64_t predictedOomScore(const Process& process, const RankParams& params) {
  // oom_score is the global view, whatever the OOM scope.
  const Badness global = computeBadness(
      process, {params.global_totalpages, params.scale.page_size_kb}, params.formula);
  return oomScore(global, params.global_totalpages, params.formula);
}

std::vector<RankedProcess> rankProcesses(std::span<const Process> processes,
                                         const RankParams& params) {
  std::vector<RankedProcess> ranked;
  ranked.reserve(processes.size());
  for (size_t i = 0; i < processes.size(); ++i) {
    RankedProcess entry;
    entry.index = i;
    entry.badness = computeBadness(processes[i], params.scale, params.formula);
    entry.oom_score = predictedOomScore(processes[i], params);
    ranked.push_back(entry);
  }
  // Kill order: the victim of each successive OOM. Among equals, the one the walk keeps.
  const bool later_wins = laterWinsTies(params.formula);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [later_wins](const RankedProcess& a, const RankedProcess& b) {
                     if (a.badness.eligible() != b.badness.eligible()) return a.badness.eligible();
                     if (!a.badness.eligible()) return a.index < b.index;
                     if (a.badness.points != b.badness.points) {
                       return a.badness.points > b.badness.points;
                     }
                     return later_wins ? a.index > b.index : a.index < b.index;
                   });
  size_t rank = 0;
  for (auto& entry : ranked) {
    if (entry.badness.eligible()) entry.rank = ++rank;
  }
  return ranked;
}

std::optional<size_t> selectVictim(std::span<const Process> processes, const RankParams& params) {
  std::optional<size_t> chosen;
  int64_t chosen_points = std::numeric_limits<int64_t>::min();
  for (size_t i = 0; i < processes.size(); ++i) {
    const Badness badness = computeBadness(processes[i], params.scale, params.formula);
    if (!badness.eligible()) continue;
    if (chosen && !replacesChosen(badness.points, chosen_points, params.formula)) continue;
    chosen = i;
    chosen_points = badness.points;
  }
  return chosen;
}

std::vector<size_t> topCandidates(std::span<const Process> processes, const RankParams& params) {
  std::vector<size_t> top;
  int64_t best = std::numeric_limits<int64_t>::min();
  for (size_t i = 0; i < processes.size(); ++i) {
    const Badness badness = computeBadness(processes[i], params.scale, params.formula);
    if (!badness.eligible() || badness.points < best) continue;
    if (badness.points > best) top.clear();
    best = badness.points;
    top.push_back(i);
  }
  return top;
}

std::vector<size_t> tiedProcesses(std::span<const Process> processes, const RankParams& params) {
  std::unordered_map<int64_t, size_t> count_by_points;
  std::vector<std::optional<int64_t>> points(processes.size());
  for (size_t i = 0; i < processes.size(); ++i) {
    const Badness badness = computeBadness(processes[i], params.scale, params.formula);
    if (!badness.eligible()) continue;
    points[i] = badness.points;
    ++count_by_points[badness.points];
  }
  std::vector<size_t> tied;
  for (size_t i = 0; i < processes.size(); ++i) {
    if (points[i] && count_by_points[*points[i]] > 1) tied.push_back(i);
  }
  return tied;
}

std::optional<int32_t> highestAdjBelow(const Process& process, int64_t rival_points, bool wins_ties,
                                       const RankParams& params) {
  // Badness never decreases as adj grows, in every formula: binary-search the boundary.
  const auto below = [&](int32_t adj) {
    Process candidate = process;
    candidate.oom_score_adj = adj;
    const int64_t points = computeBadness(candidate, params.scale, params.formula).points;
    return wins_ties ? points < rival_points : points <= rival_points;
  };
  int32_t lo = kOomScoreAdjMin + 1;
  int32_t hi = kOomScoreAdjMax;
  if (!below(lo)) return std::nullopt;
  while (lo < hi) {
    const int32_t mid = lo + (hi - lo + 1) / 2;
    if (below(mid)) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

}  // namespace oomkit::core
