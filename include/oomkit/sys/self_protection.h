// oomkit/sys/self_protection.h — keeps the OOM daemon itself alive and responsive when memory
// runs out: its pages locked in RAM (mlockall, so handling an OOM never waits on a page-in),
// and its oom_score_adj as low as the kernel lets it go (-1000 needs CAP_SYS_RESOURCE; without
// it the kernel answers EACCES for any value below the current one, and the daemon stays
// where it is — reference/machine-facts.md). Failures are warnings: the daemon still runs.
#pragma once

#include <string>
#include <vector>

namespace oomkit::sys {

// Returns one line per measure: what it achieved or why it could not.
std::vector<std::string> protectSelf(const std::string& proc_root);

}  // namespace oomkit::sys
