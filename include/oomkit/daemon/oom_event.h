// oomkit/daemon/oom_event.h — the record of one run of the OOM path on one scope: what
// started it, each step taken and why, what the handlers freed, who was killed (or what the
// panic action did), and when each thing happened. `oomkit trigger --json` prints it and the
// daemon appends it to its event log, as one JSON line (docs/events.md, oom_event_json.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oomkit/core/oom_path.h"
#include "oomkit/sys/killer.h"
#include "oomkit/sys/panic_port.h"
#include "oomkit/sys/reclaim_handler.h"

namespace oomkit::daemon {

using SteadyTime = std::chrono::steady_clock::time_point;

// The chosen victim as selection saw it (badness of the scope, the kernel's oom_score).
struct EventVictim {
  int32_t pid = 0;
  uint64_t start_time_ticks = 0;
  std::string comm;
  std::string cgroup;
  uint32_t uid = 0;
  int32_t oom_score_adj = 0;
  int64_t badness = 0;    // oom_badness() points in the scope, in pages
  int64_t oom_score = 0;  // the kernel's /proc/PID/oom_score prediction
  core::ProcessMemory memory;
  std::string chosen_by;    // "badness" or "allocating_task"
  uint64_t grew_bytes = 0;  // allocating_task only
};

// A victim that made this run wait (step 3).
struct EventPending {
  int32_t pid = 0;
  std::string comm;
  double waited_seconds = 0;
  double remaining_seconds = 0;
};

struct EventTimestamps {
  SteadyTime trigger;  // the detector fired (or the run started, for a manual trigger)
  SteadyTime decided;  // the final decision was taken
  std::optional<SteadyTime> signalled;  // the first signal went out
  std::optional<SteadyTime> released;   // process_mrelease() returned
  std::optional<SteadyTime> exited;     // every signalled process had exited
};

// What a run cost oomkit itself, from its start to its decision (the kill sent): whether the
// heap had to grow (0 when the daemon's reserve held: sys/heap_reserve.h) and the page faults
// of the thread that ran it (major ones waited for I/O).
struct RunCost {
  uint64_t heap_grew_bytes = 0;
  uint64_t minor_faults = 0;
  uint64_t major_faults = 0;
};

struct OomEvent {
  std::string scope;                  // the scope's name
  std::optional<std::string> cgroup;  // none = the global scope
  std::string trigger = "manual";     // the detector: "manual", "watermark", "psi", ...
  bool dry_run = false;
  bool sysrq = false;  // SysRq-f rules: freed memory, pending victims and panic_on_oom ignored
  std::vector<core::StepRecord> steps;
  core::Action action = core::Action::kNone;
  std::string reason;  // the final step's reason
  // The scope's memory when the run started and, if handlers freed something, after them.
  std::optional<uint64_t> total_bytes;
  std::optional<uint64_t> available_bytes;
  std::optional<uint64_t> available_after_handlers;
  uint64_t high_watermark_bytes = 0;
  std::vector<sys::HandlerOutcome> handlers;
  uint64_t freed_bytes = 0;  // by the handlers
  std::optional<EventPending> pending;
  std::optional<EventVictim> victim;
  std::optional<sys::KillReport> kill;  // what the killer did (targets, spared, group, notes)
  std::optional<sys::PanicOutcome> panic;
  core::PanicAction panic_action = core::PanicAction::kLog;  // the scope's, for the record
  std::optional<uint64_t> recovered_bytes;  // usage before the signal minus usage at exit
  bool timed_out = false;  // the victims had not all exited within the reap timeout
  EventTimestamps timestamps;
  RunCost cost;
  std::vector<std::string> notes;  // what went wrong without stopping the run
  // The decided action could not be carried out: the kill or the panic action failed, or the
  // scope could not be read for selection (`oomkit trigger` then exits 1).
  bool failed = false;

  // The pids signalled (or, in a dry run, that would have been), victim first.
  std::vector<int32_t> killedPids() const;
};

}  // namespace oomkit::daemon
