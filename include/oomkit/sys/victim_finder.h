// oomkit/sys/victim_finder.h — choosing the victim of a global OOM with as few reads as
// the exact answer allows.
//
// The kernel already computes every process's badness at the global scale and publishes it,
// rounded, as /proc/PID/oom_score; (1000 + points * 1000 / totalpages) * 2 / 3 never
// decreases as points grow, so the victim is among the processes sharing the highest
// oom_score. The finder reads oom_score (cheap) for every process, status and oom_score_adj
// only for that group, and stat only for the processes tied at the top (walk order). When
// the top group is most of the machine (nothing stands out: every process is small), that
// costs more than reading status for everyone, so the next scans are plain until their own figures
// say the pre-filter pays off again. Valid only for the global scope under the running kernel's own
// formula. Not thread-safe.
#pragma once

#include <cstddef>
#include <optional>

#include "oomkit/core/ranking.h"
#include "oomkit/result.h"
#include "oomkit/sys/proc_reader.h"

namespace oomkit::sys {

struct VictimChoice {
  std::optional<core::Process> victim;  // read with kFieldsExact; none when nothing is eligible
  size_t listed = 0;                    // processes in the proc root
  size_t status_reads = 0;              // processes whose status and oom_score_adj were read
  bool prefiltered = false;             // whether the oom_score pre-filter was used
};

class VictimFinder {
 public:
  // kAdaptive switches as described above; the others fix one strategy (tests, benchmarks).
  enum class Strategy { kAdaptive, kPrefilter, kPlain };

  explicit VictimFinder(ProcReader& proc, Strategy strategy = Strategy::kAdaptive)
      : proc_(&proc), strategy_(strategy) {}

  Result<VictimChoice> findGlobal(const core::RankParams& params);

 private:
  Result<VictimChoice> prefiltered(const core::RankParams& params);
  Result<VictimChoice> plain(const core::RankParams& params);
  void chooseAmong(std::vector<core::Process> candidates, const core::RankParams& params,
                   VictimChoice& choice);

  ProcReader* proc_;
  Strategy strategy_;
  bool use_prefilter_ = true;
};

}  // namespace oomkit::sys
