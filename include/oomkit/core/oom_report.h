// oomkit/core/oom_report.h — the kernel's own OOM reports, read from any log text.
//
// A report is what mm/oom_kill.c prints for one OOM kill: "<comm> invoked oom-killer:
// gfp_mask=..., order=..., oom_score_adj=...", the call trace and memory state, the task table
// (dump_tasks), the "oom-kill:constraint=..." summary (4.19+), and "Killed process ..." —
// followed, sometimes much later, by "oom_reaper: reaped process ...". Formats differ from 2.6
// to 6.x (reference/kernel-oom-facts.md §2.8); fields are read by name, unknown lines are
// ignored, and a field the kernel did not print stays empty (null in JSON), never 0.
//
// Input may be raw /dev/kmsg records, dmesg (with [ts] or -T dates in any locale), syslog,
// journalctl short / short-iso, rsyslog "#012"-escaped lines, mail-quoted lines, with other
// subsystems' lines interleaved. Pure: no I/O. Not thread-safe (the parser has state).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace oomkit::core {

struct OomTrigger {
  std::string comm;                      // the task that invoked the OOM killer
  std::optional<int32_t> pid;            // from the "CPU: N PID: P Comm:" line, when printed
  std::string gfp_mask;                  // hex exactly as printed ("0x201da"), without flag names
  std::vector<std::string> gfp_flags;    // "GFP_KERNEL", "__GFP_NOWARN", ... when printed
  int32_t order = 0;                     // -1 for SysRq f
  std::optional<int32_t> oom_score_adj;  // 2.6.36+
  std::optional<int32_t> oom_adj;        // 2.6.36–~3.6 ("oom_adj=%d, oom_score_adj=%d")
  std::optional<int32_t> oomkilladj;     // 2.6.2x
};

// One row of the task table (dump_tasks), values in pages as printed.
struct OomTask {
  int32_t pid = 0;
  uint32_t uid = 0;
  std::optional<int32_t> tgid;
  uint64_t total_vm_pages = 0;
  uint64_t rss_pages = 0;
  std::optional<uint64_t> rss_anon_pages;   // 6.8+
  std::optional<uint64_t> rss_file_pages;   // 6.8+
  std::optional<uint64_t> rss_shmem_pages;  // 6.8+
  std::optional<uint64_t> pgtables_bytes;   // 4.15+
  std::optional<uint64_t> nr_ptes;          // ~3.7–4.14 (page-table pages)
  std::optional<uint64_t> nr_pmds;          // 4.x
  std::optional<uint64_t> nr_puds;          // 4.14
  std::optional<uint64_t> swapents;         // ~3.7+
  std::optional<int32_t> cpu;               // 2.6.36–3.x
  std::optional<int32_t> oom_adj;           // 2.6.36–3.x legacy column
  int32_t oom_score_adj = 0;                // oomkilladj on 2.6.2x (its table has only oom_adj)
  std::string name;
};

struct OomVictim {
  int32_t pid = 0;
  std::string comm;
  std::optional<uint64_t> total_vm_kb;
  std::optional<uint64_t> anon_rss_kb;
  std::optional<uint64_t> file_rss_kb;
  std::optional<uint64_t> shmem_rss_kb;
  std::optional<uint32_t> uid;
  std::optional<uint64_t> pgtables_kb;
  std::optional<int32_t> oom_score_adj;
  std::optional<int64_t> score;  // "Kill process N (comm) score S or sacrifice child" (<5.1)
};

// "oom_reaper: reaped process N (comm), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"
struct OomReaped {
  int32_t pid = 0;
  std::string comm;
  std::optional<uint64_t> anon_rss_kb;
  std::optional<uint64_t> file_rss_kb;
  std::optional<uint64_t> shmem_rss_kb;
};

struct OomReport {
  std::optional<std::string> kernel_version;  // from the "CPU: ... Not tainted 6.1.1 #1" line
  std::optional<std::string> timestamp;       // of the first line, as the log wrote it
  std::optional<std::string> host;            // syslog/journal host name, when present
  OomTrigger trigger;
  bool memcg = false;   // "Memory cgroup out of memory" / CONSTRAINT_MEMCG / memcg lines
  bool manual = false;  // SysRq f: order=-1 or "Manual OOM execution"
  std::optional<std::string> constraint;  // "CONSTRAINT_NONE", ... (4.19+ summary line)
  std::optional<std::string>
      memcg_path;  // oom_memcg= / "Task in X killed as a result of limit of Y"
  std::optional<std::string> task_memcg;  // the victim's cgroup: task_memcg= / the X above
  std::optional<std::string> nodemask;    // "(null)", "0-1": trigger line (4.x) or summary (4.19+)
  std::optional<std::string> cpuset;      // cpuset name: "<comm> cpuset=" line (<4.19) or summary
  std::optional<std::string> mems_allowed;
  std::optional<uint64_t> memcg_usage_kb;  // "memory: usage 204800kB, limit 204800kB, ..."
  std::optional<uint64_t> memcg_limit_kb;
  std::optional<OomVictim> victim;
  std::vector<OomTask> tasks;
  std::optional<OomReaped> reaped;
  // cgroup v2 memory.oom.group: "Tasks in X are going to be killed due to memory.oom.group set",
  // then one "Killed process" line per member of X (oom_kill_memcg_member(); the victim may be
  // named again), collected in group_killed.
  std::optional<std::string> oom_group;
  std::vector<OomVictim> group_killed;
  // "Out of memory and no killable processes...": the kernel found no victim (and, unless
  // this was SysRq f or a memcg OOM, panicked). Such a report has no victim and complete = false.
  bool no_killable = false;
  std::optional<std::string> panic;  // "Kernel panic - not syncing: <this>" inside the report
  bool complete = false;             // the "Killed process" line was seen
  size_t first_line = 0;             // 1-based line numbers in the input, for "where"
  size_t last_line = 0;
};

// Feeds log lines one at a time (the watcher) and hands out reports as they complete.
class OomReportParser {
 public:
  OomReportParser();
  ~OomReportParser();
  OomReportParser(OomReportParser&&) noexcept;
  OomReportParser& operator=(OomReportParser&&) noexcept;

  // One line of log text without its '\n', in any of the supported formats.
  void feed(std::string_view line);
  // Ends the input: a report still open is handed out with complete = false.
  void finish();
  // Reports finished since the last call, in input order. A report is finished when the
  // next report starts, at finish(), or — for a complete one — at its reaper line or once 256
  // further lines came without it; a report still being read is finished, incomplete, after
  // 4096 lines without a line of its own (src/core/oom_report_machine.h).
  std::vector<OomReport> takeReports();
  // Hands out complete reports still waiting for their reaper line, and "no killable
  // processes" reports waiting for a panic line (the watcher calls this after a quiet period;
  // the core has no clock). A report still being read stays.
  void flush();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Every report in `text` (a whole log).
std::vector<OomReport> parseOomReports(std::string_view text);

}  // namespace oomkit::core
