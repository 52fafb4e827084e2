// oomkit/sys/self_protection.h — keeps the OOM daemon itself alive and responsive when memory
// runs out: its pages locked in RAM (mlockall, so handling an OOM never waits on a page-in),
// and its oom_score_adj as low as the kernel lets it go (-1000 needs CAP_SYS_RESOURCE; without
// it the kernel answers EACCES for any value below the current one, and the daemon stays
// where it is — reference/machine-facts.md). Failures are warnings: the daemon still runs.
// Each call returns one line for the log: what it achieved or why it could not.
#pragma once

#include <string>

namespace oomkit::sys {

// mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT): what is resident now stays, and every
// page touched later is locked as it is faulted in (nothing is faulted in ahead of use).
std::string lockMemory();

// munlockall(): before pages are shed (sys/resident_set.h), which madvise refuses on locked
// ranges. Returns an empty string on success.
std::string unlockMemory();

std::string lowerOomScoreAdj(const std::string& proc_root);

}  // namespace oomkit::sys
