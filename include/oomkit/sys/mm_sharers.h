// oomkit/sys/mm_sharers.h — the other processes that share an OOM victim's memory.
//
// A process created with clone(CLONE_VM) but not CLONE_THREAD (or by vfork) is a thread
// group of its own that uses the victim's mm: killing the victim alone frees nothing while it
// runs. The kernel's __oom_kill_process() walks every process and kills those with the same
// mm; user space asks kcmp(2) (KCMP_VM) for each process in the proc root. kcmp needs ptrace
// read access to both processes; a process it cannot compare (EPERM, e.g. pid 1 in some
// sandboxes) is listed as uncompared, never guessed. The scan runs before any signal: once the
// victim has passed exit_mm() its mm pointer is gone and nothing compares equal to it.
// Gathering only: who is spared is core::judgeMmSharer(). Not thread-safe (uses the
// ProcReader).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oomkit/core/kill_rules.h"
#include "oomkit/result.h"
#include "oomkit/sys/proc_reader.h"
#include "oomkit/sys/process_handle.h"

namespace oomkit::sys {

// A process an OOM kill leaves alive although it shares the victim's memory or group.
struct SparedProcess {
  int32_t pid = 0;
  std::string comm;
  core::KillVerdict reason = core::KillVerdict::kSkipInit;
  std::string message;  // "oom killer 12 (victim) has mm pinned by 1 (init)"
};

struct MmSharers {
  std::vector<ProcessHandle> to_kill;  // opened through a pidfd, identity checked
  std::vector<SparedProcess> spared;   // share the mm but must not be killed: the mm stays
  std::vector<int32_t> uncompared;     // kcmp was refused: unknown whether they share it
};

// The processes other than `victim`'s own thread group whose mm is the victim's.
// `self_pid` is oomkit's own pid (never killed). Errc::kUnavailable when the kernel has no
// kcmp (CONFIG_KCMP off); kPermissionDenied when kcmp may not look at the victim itself;
// kNotFound when the victim's mm is already gone (it is exiting).
Result<MmSharers> findMmSharers(ProcReader& proc, const ProcessHandle& victim, int32_t self_pid);

}  // namespace oomkit::sys
