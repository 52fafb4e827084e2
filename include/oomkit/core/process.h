// oomkit/core/process.h — one process as victim selection sees it.
//
// A Process is plain data gathered by the snapshot reader (src/sys/snapshot.*) from
// /proc/PID/{stat,status,oom_score_adj,oom_score,cmdline,cgroup}. The core computes on it
// and never reads anything itself. Memory is kept in kB exactly as /proc/PID/status prints
// it; the badness code converts to pages with the machine's page size.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "oomkit/core/procfs.h"

namespace oomkit::core {

struct ProcessMemory {
  uint64_t rss_anon_kb = 0;   // MM_ANONPAGES
  uint64_t rss_file_kb = 0;   // MM_FILEPAGES
  uint64_t rss_shmem_kb = 0;  // MM_SHMEMPAGES
  uint64_t swap_kb = 0;       // MM_SWAPENTS
  uint64_t pgtables_kb = 0;   // mm_pgtables_bytes >> 10 (VmPTE, plus VmPMD where printed)

  uint64_t rssKb() const { return rss_anon_kb + rss_file_kb + rss_shmem_kb; }
};

struct Process {
  int32_t pid = 0;
  uint64_t start_time_ticks = 0;  // with pid, the identity of the process (pid reuse)
  std::string comm;               // raw bytes from /proc/PID/stat: may be hostile
  std::string cmdline;            // NULs turned into spaces; empty for kernel threads
  uint32_t uid = 0;               // real uid, as the kernel's OOM task table prints it
  char state = '?';               // R, S, D, Z, ...
  uint64_t flags = 0;             // task->flags (PF_*)
  uint64_t cap_eff = 0;           // effective capabilities (older formulas favour CAP_SYS_ADMIN)
  bool has_mm = false;            // false for kernel threads, zombies, exited mms
  bool sigkill_pending = false;   // SIGKILL in SigPnd or ShdPnd: killed, not yet exiting
  ProcessMemory memory;
  int32_t oom_score_adj = 0;
  std::optional<int64_t> kernel_oom_score;  // /proc/PID/oom_score, when read
  std::string memcg_path;  // memory cgroup as /proc/PID/cgroup shows it (v1 memory or v2)
};

// Merges the parsed files of one process. `stat` gives identity, state and flags; `status`
// gives memory, uid and capabilities. VmPMD (4.0–4.14) is added to the page-table size
// because those kernels counted nr_pmds in badness too.
Process buildProcess(const ProcStat& stat, const ProcStatus& status, int32_t oom_score_adj);

// /proc/PID/cmdline with its NUL separators turned into spaces and the trailing NUL dropped.
std::string cmdlineFromProc(std::string_view raw);

}  // namespace oomkit::core
