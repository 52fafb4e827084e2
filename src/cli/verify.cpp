#include "verify.h"

namespace oomkit::cli {
namespace {

constexpr int kSettleAttempts = 5;

enum class Recheck { kAgrees, kDisagrees, kUnsettled };

bool sameInputs(const core::Process& a, const core::Process& b) {
  return a.start_time_ticks == b.start_time_ticks && a.has_mm == b.has_mm &&
         a.memory.rssKb() == b.memory.rssKb() && a.memory.swap_kb == b.memory.swap_kb &&
         a.memory.pgtables_kb == b.memory.pgtables_kb && a.oom_score_adj == b.oom_score_adj &&
         a.kernel_oom_score == b.kernel_oom_score;
}

// Re-reads `original` until two consecutive reads agree, then compares.
Recheck recheck(sys::ProcReader& proc, const core::Process& original,
                const core::RankParams& params, ScoreMismatch& mismatch) {
  constexpr unsigned kFields = sys::kFieldsExact | sys::kFieldKernelScore;
  for (int attempt = 0; attempt < kSettleAttempts; ++attempt) {
    auto first = proc.readProcess(original.pid, kFields);
    auto second = proc.readProcess(original.pid, kFields);
    if (!first || !second || first->start_time_ticks != original.start_time_ticks) {
      return Recheck::kUnsettled;
    }
    if (!sameInputs(*first, *second) || !second->kernel_oom_score) continue;
    const int64_t ours = core::predictedOomScore(*second, params);
    if (ours == *second->kernel_oom_score) return Recheck::kAgrees;
    mismatch.ours = ours;
    mismatch.kernel = *second->kernel_oom_score;
    return Recheck::kDisagrees;
  }
  return Recheck::kUnsettled;
}

}  // namespace

VerifyResult verifyOomScores(sys::ProcReader& proc, const RankingView& view) {
  VerifyResult result;
  for (const auto& entry : view.ranked) {
    const core::Process& p = view.processOf(entry);
    if (!p.kernel_oom_score) {
      ++result.unreadable;
      continue;
    }
    ++result.checked;
    if (entry.oom_score == *p.kernel_oom_score) continue;
    ScoreMismatch mismatch{p.pid, p.comm, entry.oom_score, *p.kernel_oom_score,
                           entry.badness.points};
    switch (recheck(proc, p, view.scope.params, mismatch)) {
      case Recheck::kAgrees:
        break;
      case Recheck::kUnsettled:
        ++result.unsettled;
        break;
      case Recheck::kDisagrees:
        result.mismatches.push_back(mismatch);
        break;
    }
  }
  return result;
}

}  // namespace oomkit::cli
