// oomkit/core/procfs.h — parsers for the /proc files that OOM victim selection needs.
//
// Each parser takes the whole text of one file and returns a struct, or Errc::kParse with a
// message naming the field that was wrong. Formats are those of fs/proc/array.c (stat,
// status), fs/proc/base.c (oom_score, oom_score_adj), kernel/cgroup/cgroup.c (cgroup),
// fs/proc/meminfo.c (meminfo), fs/proc/task_mmu.c (maps) and fs/proc_namespace.c (mountinfo),
// checked on 3.10–6.18. Pure: no I/O. Thread-safe (no state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oomkit/result.h"

namespace oomkit::core {

// task->flags bits (include/linux/sched.h) that selection looks at.
inline constexpr uint64_t kPfExiting = 0x00000004;
inline constexpr uint64_t kPfKthread = 0x00200000;
// CAP_SYS_ADMIN (include/uapi/linux/capability.h): older badness formulas favour it.
inline constexpr int kCapSysAdmin = 21;

// /proc/meminfo, in kB as the kernel prints it. MemTotal is totalram_pages() and SwapTotal is
// total_swap_pages, both scaled to kB — the two terms of the global OOM's totalpages.
struct MemInfo {
  uint64_t mem_total_kb = 0;
  uint64_t mem_free_kb = 0;
  std::optional<uint64_t> mem_available_kb;  // absent before 3.14
  uint64_t swap_total_kb = 0;
  uint64_t swap_free_kb = 0;
};
// Requires MemTotal; SwapTotal/SwapFree default to 0 (kernels without CONFIG_SWAP omit them).
Result<MemInfo> parseMemInfo(std::string_view text);

// /proc/PID/stat: "pid (comm) state ppid ... flags ... starttime ...".
// comm is everything between the first '(' and the LAST ')', raw bytes: it may hold spaces,
// parentheses, newlines and bytes that are not UTF-8 (prctl(PR_SET_NAME) accepts any).
struct ProcStat {
  int32_t pid = 0;
  std::string comm;
  char state = '?';
  int32_t ppid = 0;
  uint64_t flags = 0;             // field 9: task->flags (PF_*)
  int64_t num_threads = 0;        // field 20
  uint64_t start_time_ticks = 0;  // field 22: start time after boot, clock ticks (USER_HZ)
  uint64_t rss_pages = 0;         // field 24: get_mm_rss(), pages
};
Result<ProcStat> parseProcStat(std::string_view text);

// /proc/PID/status: the fields badness, eligibility and display need.
struct ProcStatus {
  std::string name;  // Name:, unescaped (the kernel escapes '\n' and '\\' here)
  char state = '?';
  int32_t tgid = 0;
  int32_t ppid = 0;
  uint32_t uid = 0;   // real uid (first of the four Uid: values), as the kernel's task table
  uint32_t euid = 0;  // effective uid
  // The Vm*/Rss* block is printed only when the task has an mm (fs/proc/task_mmu.c
  // task_mem()); kernel threads and zombies have none.
  bool has_mm = false;
  uint64_t vm_rss_kb = 0;
  // RssAnon/RssFile/RssShmem appeared in 4.5; before that only VmRSS is known, and
  // has_rss_split is false.
  bool has_rss_split = false;
  uint64_t rss_anon_kb = 0;
  uint64_t rss_file_kb = 0;
  uint64_t rss_shmem_kb = 0;
  uint64_t vm_swap_kb = 0;
  uint64_t vm_pte_kb = 0;  // mm_pgtables_bytes >> 10 (4.15+); nr_ptes pages' size before
  uint64_t vm_pmd_kb = 0;  // 4.0–4.14 printed PMD tables separately as VmPMD
  uint64_t cap_eff = 0;
  // Pending signals, bit N-1 for signal N: the thread's own (SigPnd) and the process's shared
  // set (ShdPnd). A SIGKILL the kernel is delivering is in both (complete_signal()).
  uint64_t sig_pnd = 0;
  uint64_t shd_pnd = 0;
  std::optional<bool> kthread;  // Kthread: (6.x); absent on older kernels
  int64_t threads = 0;
  std::vector<int32_t> ns_pid;  // NSpid: this pid in each nested pid namespace
};
Result<ProcStatus> parseProcStatus(std::string_view text);

// /proc/PID/oom_score_adj: an integer in [-1000, 1000].
Result<int32_t> parseOomScoreAdj(std::string_view text);
// /proc/PID/oom_score: a non-negative integer (0..2000 since 5.9, 0..1000 before).
Result<int64_t> parseOomScore(std::string_view text);

// /proc/PID/cgroup: "hierarchy-ID:controller-list:path" per line; v2 is "0::/path".
struct CgroupLine {
  int32_t hierarchy_id = 0;
  std::vector<std::string> controllers;  // empty for the v2 line; "name=systemd" kept as is
  std::string path;
};
Result<std::vector<CgroupLine>> parseProcCgroup(std::string_view text);
// The path of the v1 hierarchy that carries the memory controller, if any.
std::optional<std::string> v1MemoryCgroupPath(const std::vector<CgroupLine>& lines);
// The path on the v2 (unified) hierarchy, if any.
std::optional<std::string> v2CgroupPath(const std::vector<CgroupLine>& lines);

// /proc/PID/mountinfo (Documentation/filesystems/proc.rst, 3.5): the fields needed to find
// cgroup hierarchies. Octal escapes (\040 for space, ...) in paths are decoded.
// One line of /proc/PID/maps (show_map_vma() in fs/proc/task_mmu.c):
// "start-end perms offset major:minor inode   path" — addresses, offset and device in hex,
// inode in decimal, the path (absent for anonymous memory; "[heap]", "[stack]", "[vdso]" for
// special mappings) after padding; it may hold spaces, and the kernel escapes '\n' as "\012".
struct MapsEntry {
  uint64_t start = 0;  // first byte
  uint64_t end = 0;    // one past the last byte
  bool readable = false;
  bool writable = false;
  bool executable = false;
  bool shared = false;  // 's'; 'p' is a private (copy-on-write) mapping
  uint64_t inode = 0;   // 0: not backed by a file
  std::string path;     // as printed, escapes kept
};
Result<MapsEntry> parseMapsLine(std::string_view line);

struct MountInfo {
  std::string root;         // field 4: the mounted subtree of the filesystem
  std::string mount_point;  // field 5
  std::string fs_type;      // after " - "
  std::string super_options;
};
Result<std::vector<MountInfo>> parseMountInfo(std::string_view text);

}  // namespace oomkit::core
