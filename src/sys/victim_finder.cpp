#include "oomkit/sys/victim_finder.h"

namespace oomkit::sys {
namespace {

// Above this share of all processes in the top oom_score group, the pre-filter reads more
// than a plain scan would; the next scan then goes plain, and goes on plain until a plain
// scan predicts (from the badness it computed) that the group has become small again.
constexpr double kPrefilterMaxShare = 0.5;

// The share of processes whose oom_score (predicted from their badness, as the kernel
// computes it) equals the highest: what the pre-filter would have to read.
double topScoreShare(const std::vector<core::Process>& processes, const core::RankParams& params) {
  if (processes.empty()) return 0;
  const core::BadnessScale global{params.global_totalpages, params.scale.page_size_kb};
  int64_t top = -1;
  size_t count = 0;
  for (const auto& p : processes) {
    const int64_t score = core::oomScore(core::computeBadness(p, global, params.formula),
                                         params.global_totalpages, params.formula);
    if (score > top) {
      top = score;
      count = 0;
    }
    if (score == top) ++count;
  }
  return static_cast<double>(count) / static_cast<double>(processes.size());
}

}  // namespace

Result<VictimChoice> VictimFinder::findGlobal(const core::RankParams& params) {
  if (strategy_ == Strategy::kPrefilter) return prefiltered(params);
  if (strategy_ == Strategy::kPlain) return plain(params);
  return use_prefilter_ ? prefiltered(params) : plain(params);
}

Result<VictimChoice> VictimFinder::prefiltered(const core::RankParams& params) {
  auto pids = proc_->listPids();
  if (!pids) return Unexpected(pids.error());
  VictimChoice choice;
  choice.listed = pids->size();
  choice.prefiltered = true;
  std::vector<int32_t> top;
  int64_t top_score = -1;
  for (const int32_t pid : *pids) {
    auto score = proc_->readKernelOomScore(pid);
    if (!score || *score < top_score) continue;  // vanished or unreadable, or lower
    if (*score > top_score) top.clear();
    top_score = *score;
    top.push_back(pid);
  }
  if (top.empty()) return plain(params);  // no oom_score readable (a copied proc tree, say)
  std::vector<core::Process> group;
  group.reserve(top.size());
  for (const int32_t pid : top) {
    if (auto p = proc_->readProcess(pid, kFieldStatus | kFieldAdj)) group.push_back(std::move(*p));
  }
  choice.status_reads = group.size();
  use_prefilter_ =
      static_cast<double>(top.size()) <= kPrefilterMaxShare * static_cast<double>(pids->size());
  chooseAmong(std::move(group), params, choice);
  return choice;
}

Result<VictimChoice> VictimFinder::plain(const core::RankParams& params) {
  auto snap = proc_->snapshot(kFieldStatus | kFieldAdj);
  if (!snap) return Unexpected(snap.error());
  VictimChoice choice;
  choice.listed = snap->counters.listed;
  choice.status_reads = snap->processes.size();
  // The plain scan knows every badness: predict how big the top oom_score group is, and so
  // whether the pre-filter would pay off next time, without reading anything more.
  use_prefilter_ = topScoreShare(snap->processes, params) <= kPrefilterMaxShare;
  chooseAmong(std::move(snap->processes), params, choice);
  return choice;
}

// Reads identity (stat) for the processes tied at the top and picks as the kernel's walk.
void VictimFinder::chooseAmong(std::vector<core::Process> candidates,
                               const core::RankParams& params, VictimChoice& choice) {
  std::vector<core::Process> top;
  for (const size_t i : core::topCandidates(candidates, params)) {
    if (auto p = proc_->readProcess(candidates[i].pid, kFieldsExact)) top.push_back(std::move(*p));
  }
  core::sortInWalkOrder(top);
  if (const auto victim = core::selectVictim(top, params)) choice.victim = std::move(top[*victim]);
}

}  // namespace oomkit::sys
