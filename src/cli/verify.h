// cli/verify.h — `rank --verify`: our oom_score against the kernel's /proc/PID/oom_score.
//
// A process whose memory moves between our reads and the kernel's can disagree for a moment
// without any error in the formula, so a disagreement is confirmed by re-reading the process
// twice in a row: only when both reads agree with each other (the process held still) and
// still disagree with our computation is it a mismatch. Processes that keep changing or
// exit are counted, not reported.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oomkit/sys/proc_reader.h"

#include "ranking_view.h"

namespace oomkit::cli {

struct ScoreMismatch {
  int32_t pid = 0;
  std::string comm;
  int64_t ours = 0;
  int64_t kernel = 0;
  int64_t badness = 0;
};

struct VerifyResult {
  size_t checked = 0;     // processes compared
  size_t unreadable = 0;  // no kernel oom_score to compare with
  size_t unsettled = 0;   // exited, reused or kept changing while re-read
  std::vector<ScoreMismatch> mismatches;
};

VerifyResult verifyOomScores(sys::ProcReader& proc, const RankingView& view);

}  // namespace oomkit::cli
