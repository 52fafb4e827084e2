#include "oomkit/sys/self_protection.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "oomkit/core/text.h"
#include "oomkit/sys/files.h"

namespace oomkit::sys {

std::string lockMemory() {
  // MCL_ONFAULT: lock pages as they are touched, instead of faulting in every mapping now.
  if (::mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0) {
    return "memory locked (mlockall)";
  }
  return std::string("warning: mlockall failed: ") + std::strerror(errno) +
         "; the daemon's pages may be reclaimed under pressure";
}

std::string unlockMemory() {
  if (::munlockall() == 0) return {};
  return std::string("warning: munlockall failed: ") + std::strerror(errno);
}

std::string lowerOomScoreAdj(const std::string& proc_root) {
  const std::string path = proc_root + "/self/oom_score_adj";
  if (writeFile(path, "-1000")) return "oom_score_adj -1000: the kernel will not kill oomkit";
  auto current = readFile(path);
  const std::string now = current ? std::string(core::trim(*current)) : "unknown";
  return "warning: cannot set oom_score_adj -1000 (needs CAP_SYS_RESOURCE); it stays " + now;
}

}  // namespace oomkit::sys
