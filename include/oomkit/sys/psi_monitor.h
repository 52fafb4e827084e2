// oomkit/sys/psi_monitor.h — the PSI detector: watches a memory pressure file
// (/proc/pressure/memory or a cgroup v2 memory.pressure) and reports when the memory stall
// within a window reaches a threshold, as a PSI trigger does (kernel/sched/psi.c,
// Documentation/accounting/psi.rst).
//
// Three modes, tried in this order by open():
//   1. kernel trigger: open the file O_RDWR|O_NONBLOCK, write "some <threshold us> <window us>"
//      (one fd per threshold); the kernel signals POLLPRI at most once per window.
//   2. user-namespace trigger: since about 6.5 an opener without CAP_SYS_RESOURCE may only use
//      windows that are multiples of 2 s (EINVAL otherwise; before that, opening for write
//      needed the capability: EPERM). The kernel checks the capability in the opener's
//      credentials (file->f_cred) without regard to their user namespace, so a forked child
//      that unshare(CLONE_NEWUSER)s (and so holds every capability in its new namespace) can
//      open and write the trigger and pass the fd back over a socketpair (SCM_RIGHTS). The
//      file's permissions are still checked against the real uid, which a new namespace keeps.
//   3. sampling: read `total=` every samplingInterval() and apply the trigger's rule with
//      core::PsiWindow.
// The trigger modes fire at most once per window (the kernel's rate limit); sampling reports a
// level: sample() is true for as long as the last window holds enough stall.
// Not thread-safe: one owner polls and calls onEvent()/sample().
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oomkit/core/config_values.h"
#include "oomkit/core/psi.h"
#include "oomkit/result.h"

namespace oomkit::sys {

enum class PsiMode { kKernelTrigger, kUserNamespaceTrigger, kSampling };
// "kernel trigger", "user-namespace trigger", "sampling".
std::string_view psiModeName(PsiMode mode);

inline constexpr char kSystemMemoryPressure[] = "/proc/pressure/memory";

struct PsiSpec {
  std::string pressure_file;  // "/proc/pressure/memory" or "<cgroup v2 dir>/memory.pressure"
  std::optional<core::Millis> some_threshold, full_threshold;  // at least one
  core::Millis window{1000};                                   // at most 10 s
};

class PsiMonitor {
 public:
  // Opens `spec` in the first mode that works, or in `forced_mode` only (for tests; then the
  // error of that mode if it fails). Errors:
  //   Errc::kInvalidArgument: no threshold, a threshold of 0 or above the window, a window of
  //     0 or above 10 s (the kernel would refuse these in any mode);
  //   Errc::kUnavailable: the pressure file does not exist (no CONFIG_PSI, psi=0, no such
  //     cgroup), or a "full" threshold on a file without a "full" line;
  //   otherwise the error of the sampling mode's first read.
  static Result<PsiMonitor> open(const PsiSpec& spec,
                                 std::optional<PsiMode> forced_mode = std::nullopt);

  PsiMonitor(PsiMonitor&& other) noexcept;
  PsiMonitor& operator=(PsiMonitor&& other) noexcept;
  PsiMonitor(const PsiMonitor&) = delete;
  PsiMonitor& operator=(const PsiMonitor&) = delete;
  ~PsiMonitor();  // closes the trigger fds (which removes the triggers)

  PsiMode mode() const { return mode_; }
  const PsiSpec& spec() const { return spec_; }
  // One line for the daemon's log: file, thresholds, window, mode and why that mode, e.g.
  // "/proc/pressure/memory: some 150ms per 1s: user-namespace trigger (the kernel refused a 1s
  // window: EINVAL, only 2 s multiples without CAP_SYS_RESOURCE)".
  std::string describe() const;
  // Why open() chose mode(): the failures of the modes tried before it; "" when the kernel
  // trigger worked, "forced" when open() was given the mode.
  const std::string& fallbackReason() const { return reason_; }

  // Trigger modes: the fds to poll for POLLPRI (one per threshold, some first); empty when
  // sampling.
  std::vector<int> fds() const;
  // Which threshold `fd` watches; nullopt for an fd that is not one of fds().
  std::optional<core::PsiKind> kindOf(int fd) const;

  // Trigger modes, after poll reported `revents` on `fd`: true when that trigger fired
  // (POLLPRI). POLLERR, POLLHUP or POLLNVAL mean the file went away (the cgroup was
  // removed): Errc::kNotFound. Errc::kInvalidArgument for an fd not in fds().
  Result<bool> onEvent(int fd, short revents);

  // Sampling mode: reads the file now and returns whether, within the last window, a
  // threshold was reached. `now` is std::chrono::steady_clock's (CLOCK_MONOTONIC): pass
  // steady_clock::now(); tests pass their own, increasing, time points. Readings are judged
  // from the one open() took. Errors: the read's (Errc::kNotFound when the file went away),
  // the parse's, or PsiWindow's (time or counter going backwards).
  // Errc::kInvalidArgument in the trigger modes.
  Result<bool> sample(std::chrono::steady_clock::time_point now);
  // The stall within the last window at the latest sample(), per threshold (sampling only).
  std::optional<core::PsiMicros> lastStall(core::PsiKind kind) const;

  // How often to call sample(): window / 10 (as the kernel's UPDATES_PER_WINDOW), at least
  // 50 ms.
  core::Millis samplingInterval() const;

 private:
  struct Trigger {
    core::PsiKind kind;
    core::PsiMicros threshold;
    int fd = -1;                            // trigger modes
    std::optional<core::PsiWindow> window;  // sampling mode
  };

  PsiMonitor() = default;
  void closeAll();
  Trigger* findTrigger(int fd);
  const Trigger* findTrigger(core::PsiKind kind) const;

  PsiSpec spec_;
  PsiMode mode_ = PsiMode::kSampling;
  std::string reason_;
  std::vector<Trigger> triggers_;

  friend class PsiMonitorOpener;
};

}  // namespace oomkit::sys
