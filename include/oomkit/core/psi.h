// oomkit/core/psi.h — the kernel's pressure stall information (PSI) for memory, as data: the
// text of /proc/pressure/memory and of a cgroup's memory.pressure, the trigger strings the
// kernel accepts, and PsiWindow, the sampling version of a PSI trigger.
//
// Format (kernel/sched/psi.c psi_show(), Documentation/accounting/psi.rst):
//   some avg10=0.00 avg60=0.00 avg300=0.00 total=489331
//   full avg10=0.00 avg60=0.00 avg300=0.00 total=124316
// avgN is the percentage of wall time stalled over the last N seconds, "%lu.%02lu"; total is
// the cumulative stall in microseconds. "full" is absent from /proc/pressure/cpu before 5.13.
//
// A trigger "some 150000 1000000" asks the kernel to signal POLLPRI when the stall within
// any 1 s window grows by 150 ms or more (psi.c window_update()/update_triggers()). When the
// kernel refuses triggers, PsiWindow applies the same rule to samples of `total`: the stall in
// the sliding window (now - window, now] is the growth of total across it, the value at the
// window's start interpolated linearly between the two samples around it (as psi.c
// interpolates the previous window's growth), and the window fires when that is ≥ threshold.
// Pure: no I/O, no clock. Not thread-safe (one PsiWindow per trigger).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "oomkit/result.h"

namespace oomkit::core {

// One line of a pressure file.
struct PsiLine {
  double avg10 = 0;  // percent of wall time stalled, averaged over 10 s
  double avg60 = 0;
  double avg300 = 0;
  uint64_t total_us = 0;  // cumulative stall since boot (or since the cgroup was made), µs

  bool operator==(const PsiLine&) const = default;
};

struct PsiStats {
  PsiLine some;                 // at least one task stalled
  std::optional<PsiLine> full;  // all non-idle tasks stalled; absent on old kernels' cpu file

  bool operator==(const PsiStats&) const = default;
};

// Parses the whole text of a pressure file. Requires a "some" line; the "full" line is
// optional; blank lines are ignored. Each line needs avg10, avg60, avg300 and total exactly
// once ("key=value"); other "key=value" fields are ignored, for kernels that add some.
// Errc::kParse naming the line and field on anything else.
Result<PsiStats> parsePressure(std::string_view text);

enum class PsiKind { kSome, kFull };
std::string_view psiKindName(PsiKind kind);  // "some", "full"

using PsiMicros = std::chrono::microseconds;

// The kernel's limit on a trigger's window (psi.c WINDOW_MAX_US).
inline constexpr PsiMicros kPsiMaxWindow{10'000'000};

// "some 150000 1000000": what is written to a pressure file to create a trigger (without the
// terminating NUL, which the writer must add: psi_write() overwrites the last byte with one).
std::string psiTriggerText(PsiKind kind, PsiMicros threshold, PsiMicros window);

// Checks a trigger as psi_trigger_create() does: 0 < window ≤ 10 s, 0 < threshold ≤ window.
// Errc::kInvalidArgument otherwise. (Windows below 500 ms, or not a multiple of 2 s without
// CAP_SYS_RESOURCE, are refused by some kernels only; that is the caller's to find out.)
Status validatePsiTrigger(PsiMicros threshold, PsiMicros window);

// The sampling fallback of one trigger: fed successive readings of a PSI line's `total`, it
// tells whether the stall within the last `window` reached `threshold`.
class PsiWindow {
 public:
  using Time = std::chrono::steady_clock::time_point;

  // threshold and window as for validatePsiTrigger(); not checked here.
  PsiWindow(PsiMicros threshold, PsiMicros window) : threshold_(threshold), window_(window) {}

  // Adds the reading `total_us` taken at `now`; returns whether stall() ≥ threshold.
  // Errors (Errc::kInvalidArgument):
  //   - `now` is before the previous reading: the reading is ignored;
  //   - `total_us` is below the previous reading (the counter went backwards: the file was
  //     replaced, e.g. a cgroup removed and made again): the window restarts from this
  //     reading, so the next ones are judged against the new counter.
  // A reading at the same time as the previous one replaces it.
  Result<bool> observe(Time now, uint64_t total_us);

  // The stall within (latest - window, latest] as of the latest reading; with readings
  // covering less than a window, the growth since the first one. 0 before two readings.
  PsiMicros stall() const { return stall_; }
  bool exceeded() const { return stall_ >= threshold_; }
  PsiMicros threshold() const { return threshold_; }
  PsiMicros window() const { return window_; }
  // Readings kept: those within the window plus the one just before it (the interpolation's
  // left end). Bounded by the number of readings per window, plus one.
  size_t readingsKept() const { return readings_.size(); }

 private:
  struct Reading {
    Time time;
    uint64_t total_us;
  };

  void dropReadingsBefore(Time start);
  double totalAt(Time start) const;

  PsiMicros threshold_;
  PsiMicros window_;
  std::deque<Reading> readings_;  // oldest first, times non-decreasing
  PsiMicros stall_{0};
};

}  // namespace oomkit::core
