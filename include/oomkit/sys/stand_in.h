// oomkit/sys/stand_in.h — a process of the daemon's own, started for its start-up rehearsal to
// kill for real.
//
// The rehearsal's dry run faults in the code that reading, selecting and planning need, but
// not the kill itself: pidfd_send_signal, process_mrelease (and the release thread), the
// record of the victim in the shared state, the wait for the exit, the event of a kill. Left
// out, those pages are faulted in by the first real kill; under memory pressure the kernel
// has long dropped them from the page cache (the daemon's pages are locked only once
// touched), and the kill then waits for the disk exactly when the disk is busiest. Measured
// (docs/daemon.md, "Memory of its own"): with the page cache of the executable dropped, a kill
// took 2 major faults before the stand-in, none after.
//
// The stand-in is a fork of the daemon with every signal blocked, so that only SIGKILL ends it
// (a scope's SIGTERM-first kill sends SIGKILL too). start() raises its oom_score_adj to 1000
// (always allowed; the daemon's own -1000 would make the killer refuse it) and does not wait
// for it to run: the rehearsal may kill it before it ever has. If it does run, it renames
// itself "oomkit-stand-in", drops the daemon's files, arranges to die with the daemon
// (PR_SET_PDEATHSIG) and pauses. The StandIn object kills and reaps it if the rehearsal did
// not.
#pragma once

#include <cstdint>
#include <string>

#include "oomkit/core/process.h"
#include "oomkit/result.h"
#include "oomkit/sys/proc_reader.h"

namespace oomkit::sys {

class StandIn {
 public:
  // The name (comm) the stand-in takes once it runs: at most 15 bytes (TASK_COMM_LEN).
  static constexpr const char* kComm = "oomkit-stand-in";

  // Forks the stand-in and raises its oom_score_adj; its process() as `proc` then reads it
  // (pid, start time, comm, oom_score_adj). `proc`'s root must show this pid namespace.
  static Result<StandIn> start(ProcReader& proc);

  StandIn(StandIn&& other) noexcept;
  StandIn& operator=(StandIn&& other) noexcept;
  StandIn(const StandIn&) = delete;
  StandIn& operator=(const StandIn&) = delete;
  // Kills the stand-in if it still runs (SIGKILL to an unreaped child of ours cannot reach
  // another process: its pid is not reused before the reap), and reaps it.
  ~StandIn();

  const core::Process& process() const { return process_; }
  int32_t pid() const { return process_.pid; }

 private:
  explicit StandIn(core::Process process) : process_(std::move(process)) {}

  core::Process process_;  // pid 0: moved from
};

}  // namespace oomkit::sys
