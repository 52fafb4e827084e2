// oomkit/sys/pending_victims.h — OOM victims that have been signalled but not yet exited,
// per scope: the user-space TIF_MEMDIE.
//
// The kernel does not pick a second victim while the first is still dying
// (oom_evaluate_task() aborts on tsk_is_oom_victim()), but gives up waiting once the oom_reaper
// has set MMF_OOM_SKIP. Here a kill stays pending for its scope until every process it
// signalled has exited (their pidfds are readable) or the reap timeout has passed since its
// SIGKILL. When it ends, the record says when the signal went out, when the last process
// exited, and how much memory the scope got back (usage before the signal minus usage at
// exit). Time is an argument (`now`); exit is read from the pidfds without blocking.
// Not thread-safe: driven from the single event loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oomkit/result.h"
#include "oomkit/sys/killer.h"
#include "oomkit/sys/proc_reader.h"
#include "oomkit/sys/process_handle.h"

namespace oomkit::sys {

// OOM_REAPER_DELAY (2 s) plus MAX_OOM_REAP_RETRIES (10) x HZ/10: how long the kernel waits for
// a victim before marking its mm MMF_OOM_SKIP and letting selection move on.
inline constexpr std::chrono::milliseconds kDefaultReapTimeout{3000};

// A kill still in progress.
struct DyingVictim {
  int32_t victim_pid = 0;
  std::string victim_comm;
  std::chrono::milliseconds waited{0};     // since the first signal
  std::chrono::milliseconds remaining{0};  // until the reap timeout (counted from SIGKILL)
};

// A kill that has ended: every process exited, or the reap timeout passed.
struct FinishedKill {
  std::string scope;
  int32_t victim_pid = 0;
  std::string victim_comm;
  SteadyTime signalled_at;
  std::optional<SteadyTime> exited_at;  // when the last process was seen gone
  bool timed_out = false;
  std::vector<int32_t> still_running;  // when timed out
  std::optional<uint64_t> usage_before_bytes;
  std::optional<uint64_t> usage_after_bytes;  // read when the kill ended
  std::optional<uint64_t> recovered_bytes;    // before - after, when both are known
};

class PendingVictims {
 public:
  // `proc` (for the machine's usage) must outlive this object.
  PendingVictims(ProcReader& proc, std::chrono::milliseconds reap_timeout = kDefaultReapTimeout)
      : proc_(&proc), reap_timeout_(reap_timeout) {}

  // Watches what `report` signalled in `scope` (a key of the caller's choosing, e.g. "/" or a
  // cgroup path); takes its handles. A dry run or a kill that signalled nothing is ignored.
  void add(const std::string& scope, KillReport&& report);

  // The oldest kill in `scope` whose processes have not all exited, within the reap timeout
  // at `now`; nullopt if there is none (the OOM path may then kill again).
  std::optional<DyingVictim> dying(const std::string& scope, SteadyTime now);

  // Ends the kills whose processes have all exited or whose timeout has passed at `now`, reads
  // the scopes' usage for those, and returns them (oldest first).
  std::vector<FinishedKill> collect(SteadyTime now);

  // The pidfds still being watched, for epoll (POLLIN on exit; then call collect()).
  std::vector<int> fds() const;
  // The earliest reap deadline, for the loop's timer; nullopt when nothing is pending.
  std::optional<SteadyTime> nextDeadline() const;
  bool empty() const { return kills_.empty(); }

 private:
  struct Watched {
    ProcessHandle handle;
    std::optional<SteadyTime> exited_at;
  };
  struct Kill {
    std::string scope;
    int32_t victim_pid = 0;
    std::string victim_comm;
    SteadyTime signalled_at;  // the first signal
    SteadyTime deadline;      // SIGKILL (or the first signal) + reap timeout
    std::optional<std::string> usage_cgroup_dir;
    std::optional<uint64_t> usage_before_bytes;
    std::vector<Watched> processes;
  };

  // Stamps newly exited processes with `now`; true iff all have exited.
  static bool refresh(Kill& kill, SteadyTime now);
  FinishedKill finish(Kill& kill, bool timed_out);

  ProcReader* proc_;
  std::chrono::milliseconds reap_timeout_;
  std::vector<Kill> kills_;  // in signal order
};

}  // namespace oomkit::sys
