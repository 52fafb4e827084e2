// oomkit/sys/process_handle.h — one process held by a pidfd: signalled, reaped and watched
// without any pid-reuse race.
//
// A pid names whichever process holds it now; a pidfd names one process for as long as the fd
// is open. open() calls pidfd_open(2) first and only then re-reads /proc/PID/stat: if the
// process the pid named has exited and the pid was reused before pidfd_open, the pidfd refers
// to the newcomer, whose start time differs, and open() refuses it. After the read it checks
// that the pidfd's process is still running, so the stat it read was that process's own.
// From then on every signal goes through the pidfd (pidfd_send_signal(2)), which can never
// reach another process. process_mrelease(2) frees a killed process's memory at once, as the
// kernel's oom_reaper does. The pidfd is readable (POLLIN) once the process has exited, for
// epoll. The ProcReader's root must show this process's pid namespace (pidfd_open takes our
// pids). Syscalls through syscall(2): glibc 2.36's <sys/pidfd.h> is not C++-safe and has no
// process_mrelease. A handle is not thread-safe; distinct handles are independent.
#pragma once

#include <chrono>
#include <cstdint>

#include "oomkit/core/process.h"
#include "oomkit/result.h"
#include "oomkit/sys/proc_reader.h"

namespace oomkit::sys {

class ProcessHandle {
 public:
  // What process_mrelease() achieved.
  enum class Release {
    kReleased,        // it unmapped the dying process's memory itself
    kAlreadyExiting,  // ESRCH: the process had already passed exit_mm(); memory is being freed
  };

  // The process (`pid`, `expected_start_time`) (ticks, /proc/PID/stat field 22). `fields`
  // (kFieldStat is always added) are read into process() after the pidfd is open.
  // Errc::kNotFound when the pid is free, the process has exited, or the pid now names another
  // process (the message says which); kUnavailable without pidfd_open (before 5.3).
  static Result<ProcessHandle> open(ProcReader& proc, int32_t pid, uint64_t expected_start_time,
                                    unsigned fields = kFieldStat);
  // Whichever process holds `pid` now, with its identity read through the open pidfd. For
  // processes found by a scan (mm sharers, cgroup members) rather than chosen earlier.
  static Result<ProcessHandle> openCurrent(ProcReader& proc, int32_t pid,
                                           unsigned fields = kFieldStat);

  ProcessHandle(ProcessHandle&& other) noexcept;
  ProcessHandle& operator=(ProcessHandle&& other) noexcept;
  ProcessHandle(const ProcessHandle&) = delete;
  ProcessHandle& operator=(const ProcessHandle&) = delete;
  ~ProcessHandle();

  // The process as read right after the pidfd was opened (pid, start time, comm, flags, adj).
  const core::Process& process() const { return process_; }
  int32_t pid() const { return process_.pid; }
  // The pidfd, for epoll: POLLIN once the process has exited (every thread; a zombie counts).
  int fd() const { return fd_; }

  // pidfd_send_signal(sig). Errc::kNotFound if the process has been reaped already.
  Status kill(int sig);
  // process_mrelease(): call right after SIGKILL. Errc::kInvalidArgument (EINVAL) when the
  // process is not dying, e.g. not yet killed or a process sharing its mm still runs;
  // kUnavailable before 5.15. EAGAIN (mmap lock contended) is retried a few times.
  Result<Release> release();
  // True iff the process has exited (never blocks).
  bool exited() const;
  // Waits up to `timeout` (a negative one counts as 0) for the process to exit; true iff it
  // did.
  bool waitExit(std::chrono::milliseconds timeout) const;

 private:
  ProcessHandle(int fd, core::Process process) : fd_(fd), process_(std::move(process)) {}
  static Result<ProcessHandle> attach(ProcReader& proc, int32_t pid, unsigned fields);

  int fd_ = -1;
  core::Process process_;
};

// process_mrelease(pidfd), retried while the kernel answers EAGAIN (mmap lock contended) or
// EINTR: 0 or the last errno. For a caller with a bare pidfd (BackgroundReleaser's thread).
int releaseMemoryOf(int pidfd);

}  // namespace oomkit::sys
