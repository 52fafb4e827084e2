// oomkit/daemon/kernel_oom_watcher.h — the kernel's own OOM kills as they happen, from the
// kernel log (/dev/kmsg) and from the kernel's OOM kill counters (for kills whose report was
// rate-limited or lost), for an event loop: `oomkit watch` and the daemon (`oomkit run`).
//
// Driven from outside, never blocking: the caller waits for kmsgFd() to be readable (POLLIN)
// and calls onKmsgReadable(), calls onTick() every pollInterval(), and calls takeKills() after
// either and whenever nextDeadline() passes. Time is always an argument (steady_clock), so the
// rules can be tested without waiting:
//   - a complete report is handed out at its oom_reaper line, or once the log was quiet for
//     kReaperWait (the reaper line may never come);
//   - /proc/vmstat oom_kill counts every kill; kills it counted beyond the reports seen are
//     handed out from the counters alone once kReportGrace passed without a report, placed in
//     the memory cgroups whose own oom_kill counter rose (oomkit/sys/oom_counters.h).
// A report and the counter rise of the same kill make one kill, not two. Prints nothing.
// Not thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oomkit/core/oom_report.h"
#include "oomkit/result.h"
#include "oomkit/sys/cgroups.h"
#include "oomkit/sys/kmsg_reader.h"
#include "oomkit/sys/oom_counters.h"
#include "oomkit/sys/proc_reader.h"

namespace oomkit::daemon {

using SteadyTime = std::chrono::steady_clock::time_point;

enum class KernelOomSource {
  kKmsg,     // the kernel's report was read from the log
  kCounter,  // only the OOM kill counters saw the kill (its report was rate-limited or lost)
};

// One kernel OOM kill (kKmsg), or `kills` kills the counters saw without a report (kCounter).
struct KernelOomKill {
  KernelOomSource source = KernelOomSource::kKmsg;
  // kKmsg: the parsed report; it always names a victim (reports without one killed nothing).
  std::optional<core::OomReport> report;
  // kCounter: the memory cgroup whose own oom_kill counter rose (as /proc/PID/cgroup shows
  // it), or none: only /proc/vmstat rose (a global kill, or no memory hierarchy to look in).
  std::optional<std::string> memcg;
  uint64_t kills = 1;  // kKmsg: 1
  // When the watcher learned of it: kKmsg, when the records that completed the report had
  // been read; kCounter, when the counter rise was first seen.
  SteadyTime seen{};
};

struct KernelOomWatcherStats {
  uint64_t kmsg_records = 0;      // records read from the log
  uint64_t kmsg_overwritten = 0;  // records lost to ring-buffer overwrites (EPIPE)
  uint64_t counted = 0;           // kills /proc/vmstat counted since open()
  uint64_t accounted = 0;         // kills handed out (reports + counter-only kills)
  uint64_t counter_errors = 0;    // failed reads of /proc/vmstat (the tick is skipped)
};

class KernelOomWatcher {
 public:
  // A complete report waits this long after the log's last record for its oom_reaper line.
  static constexpr std::chrono::milliseconds kReaperWait{250};
  // A counted kill with no report after this long is handed out from the counters alone.
  static constexpr std::chrono::milliseconds kReportGrace{1000};
  static constexpr std::chrono::milliseconds kPollInterval{100};

  // Opens `kmsg_path` (normally "/dev/kmsg", from its end: only kills from now on) and reads
  // the counters' baselines: <proc>/vmstat, and every cgroup of `memory` if given. `proc`
  // must outlive the watcher. Errc::kUnavailable for a kernel without the counters (< 4.13).
  static Result<KernelOomWatcher> open(sys::ProcReader& proc,
                                       std::optional<sys::MemoryHierarchy> memory,
                                       const std::string& kmsg_path);

  // For epoll/poll: readable (POLLIN) when a log record is waiting.
  int kmsgFd() const { return kmsg_.fd(); }

  // Reads every record waiting and feeds the report parser; returns how many were read.
  // An error is a failed read of the log itself (not EAGAIN, not EPIPE).
  Result<size_t> onKmsgReadable(SteadyTime now);

  // Reads /proc/vmstat oom_kill; the caller calls it every pollInterval().
  void onTick(SteadyTime now);

  // Kills complete by `now`, in the order they were seen.
  std::vector<KernelOomKill> takeKills(SteadyTime now);

  // When takeKills() may have something even if no record and no tick comes before then
  // (a report's reaper wait, a counter rise's grace); none when nothing is waiting.
  std::optional<SteadyTime> nextDeadline() const;

  std::chrono::milliseconds pollInterval() const { return kPollInterval; }

  KernelOomWatcherStats stats() const;

 private:
  KernelOomWatcher(sys::KmsgReader kmsg, sys::OomKillCounters counters)
      : kmsg_(std::move(kmsg)), counters_(std::move(counters)) {}

  void takeReports(SteadyTime now, std::vector<KernelOomKill>& kills);
  void takeCounted(SteadyTime now, std::vector<KernelOomKill>& kills);
  void updateUnexplained(SteadyTime now);

  sys::KmsgReader kmsg_;
  sys::OomKillCounters counters_;
  core::OomReportParser parser_;
  SteadyTime last_record_{};                     // when the last batch of records was read
  bool unflushed_ = false;                       // records fed since the parser's last flush()
  bool untaken_ = false;                         // records fed since the last takeKills()
  std::optional<SteadyTime> unexplained_since_;  // counted kills beyond the accounted ones
  KernelOomWatcherStats stats_;
};

}  // namespace oomkit::daemon
