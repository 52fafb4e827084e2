// oomkit/core/watermark_detector.h — the user-space version of the kernel's zone watermarks
// for one OOM scope: from samples of the scope's available memory it tells whether the scope
// is clear, under pressure or out of memory, and when to sample next.
//
// Levels (docs/config.md "[scope.watermarks]"): below `min` the scope is out of memory (the
// OOM path runs, as when the kernel's allocator fails below WMARK_MIN); below `low` it is
// under pressure (the early warning, like kswapd waking at WMARK_LOW); it is clear again only
// once it is back above `high` (kswapd sleeps at WMARK_HIGH), so a scope hovering at one line
// does not flap. Sampling adapts like earlyoom's sleep: the time until available memory could
// reach `min` at the faster of the observed fill rate and an assumed worst-case rate, halved,
// between a floor and a ceiling ([scope.sampling], core/config.h SamplingConfig); at or below
// `low` it samples at the floor.
// Pure: time points and byte counts in, decisions out. Not thread-safe (one per scope).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "oomkit/core/config.h"

namespace oomkit::core {

enum class PressureLevel { kClear, kPressure, kOutOfMemory };
std::string_view pressureLevelName(PressureLevel level);  // "clear", "pressure", "oom"

struct WatermarkUpdate {
  PressureLevel level = PressureLevel::kClear;
  std::optional<PressureLevel> changed_from;  // set when the level changed with this sample
  WatermarkBytes watermarks;                  // resolved against the sample's total
  double fill_rate = 0;                       // bytes/s the scope is filling (0 if draining)
  std::chrono::nanoseconds next_sample_in{0};
};

class WatermarkDetector {
 public:
  using Time = std::chrono::steady_clock::time_point;

  explicit WatermarkDetector(Watermarks watermarks, SamplingConfig sampling = {})
      : watermarks_(watermarks), sampling_(sampling) {}

  WatermarkUpdate observe(Time now, uint64_t available_bytes, uint64_t total_bytes);
  PressureLevel level() const { return level_; }

 private:
  PressureLevel classify(uint64_t available, const WatermarkBytes& marks) const;
  void updateFillRate(Time now, uint64_t available);
  std::chrono::nanoseconds nextInterval(uint64_t available, const WatermarkBytes& marks) const;

  Watermarks watermarks_;
  SamplingConfig sampling_;
  PressureLevel level_ = PressureLevel::kClear;
  std::optional<Time> last_time_;
  uint64_t last_available_ = 0;
  double fill_rate_ = 0;  // smoothed, bytes/s
};

}  // namespace oomkit::core
