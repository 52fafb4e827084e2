#include "oomkit/core/watermark_detector.h"

#include <algorithm>

namespace oomkit::core {
namespace {

// Weight of the newest rate in the smoothed fill rate: high, because a hog's rate is what
// matters and it appears suddenly; smoothing only damps one-sample noise.
constexpr double kNewRateWeight = 0.7;

}  // namespace

std::string_view pressureLevelName(PressureLevel level) {
  switch (level) {
    case PressureLevel::kClear:
      return "clear";
    case PressureLevel::kPressure:
      return "pressure";
    case PressureLevel::kOutOfMemory:
      return "oom";
  }
  return "clear";
}

WatermarkUpdate WatermarkDetector::observe(Time now, uint64_t available_bytes,
                                           uint64_t total_bytes) {
  WatermarkUpdate update;
  update.watermarks = resolveWatermarks(watermarks_, total_bytes);
  updateFillRate(now, available_bytes);
  const PressureLevel level = classify(available_bytes, update.watermarks);
  if (level != level_) update.changed_from = level_;
  level_ = level;
  update.level = level;
  update.fill_rate = fill_rate_;
  update.next_sample_in = nextInterval(available_bytes, update.watermarks);
  return update;
}

PressureLevel WatermarkDetector::classify(uint64_t available, const WatermarkBytes& marks) const {
  if (available < marks.min_bytes) return PressureLevel::kOutOfMemory;
  if (available < marks.low_bytes) return PressureLevel::kPressure;
  // Between low and high the level holds: pressure clears only above high (hysteresis).
  if (available <= marks.high_bytes && level_ != PressureLevel::kClear) {
    return PressureLevel::kPressure;
  }
  return PressureLevel::kClear;
}

void WatermarkDetector::updateFillRate(Time now, uint64_t available) {
  if (last_time_ && now > *last_time_) {
    const double seconds = std::chrono::duration<double>(now - *last_time_).count();
    const double consumed = static_cast<double>(last_available_) - static_cast<double>(available);
    const double rate = std::max(0.0, consumed / seconds);
    fill_rate_ = kNewRateWeight * rate + (1 - kNewRateWeight) * fill_rate_;
  }
  last_time_ = now;
  last_available_ = available;
}

std::chrono::nanoseconds WatermarkDetector::nextInterval(uint64_t available,
                                                         const WatermarkBytes& marks) const {
  const std::chrono::nanoseconds floor = sampling_.min_interval;
  const std::chrono::nanoseconds ceiling = std::max(sampling_.max_interval, sampling_.min_interval);
  if (available <= marks.low_bytes) return floor;
  const double headroom = static_cast<double>(available - marks.min_bytes);
  const double rate = std::max({fill_rate_, static_cast<double>(sampling_.fill_rate_bytes), 1.0});
  const auto interval = std::chrono::duration<double>(headroom / rate / 2);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(interval);
  return std::clamp(nanos, floor, ceiling);
}

}  // namespace oomkit::core
