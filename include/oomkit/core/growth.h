// oomkit/core/growth.h — which process's memory grew most between two snapshots: the
// user-space stand-in for vm.oom_kill_allocating_task's "current" (mm/oom_kill.c
// out_of_memory()), the task whose allocation failed, which user space cannot see.
//
// A process is the same in both snapshots only if pid and start time match (pid reuse).
// Growth counts what oom_badness() counts (rss, swap, page tables). Processes the kernel
// would not kill as the allocating task are skipped: no mm (kernel threads, zombies), init,
// oom_score_adj -1000 (out_of_memory() checks OOM_SCORE_ADJ_MIN and oom_unkillable_task()),
// and `self_pid` (oomkit never kills itself). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "oomkit/core/oom_path.h"
#include "oomkit/core/process.h"

namespace oomkit::core {

// The process that grew most from `before` to `after`; nullopt when none grew.
// Ties go to the one met first in `after`.
std::optional<Grower> fastestGrower(std::span<const Process> before, std::span<const Process> after,
                                    int32_t self_pid);

}  // namespace oomkit::core
