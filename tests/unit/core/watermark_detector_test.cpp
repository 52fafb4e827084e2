// Tests for core::WatermarkDetector: levels with hysteresis, and adaptive sampling.
#include "oomkit/core/watermark_detector.h"

#include <gtest/gtest.h>

namespace oomkit::core {
namespace {

using std::chrono::milliseconds;
using Time = WatermarkDetector::Time;

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kTotal = 1000 * kMiB;  // min 50, low 100, high 150 MiB with the defaults

Time at(int ms) {
  return Time(milliseconds(ms));
}

TEST(WatermarkDetectorTest, LevelsFollowMinAndLowAndClearOnlyAboveHigh) {
  WatermarkDetector d(Watermarks{});
  EXPECT_EQ(d.observe(at(0), 500 * kMiB, kTotal).level, PressureLevel::kClear);
  auto u = d.observe(at(10), 90 * kMiB, kTotal);
  EXPECT_EQ(u.level, PressureLevel::kPressure);
  EXPECT_EQ(u.changed_from, PressureLevel::kClear);
  EXPECT_EQ(u.watermarks.low_bytes, 100 * kMiB);
  u = d.observe(at(20), 40 * kMiB, kTotal);
  EXPECT_EQ(u.level, PressureLevel::kOutOfMemory);
  EXPECT_EQ(u.changed_from, PressureLevel::kPressure);
  // Back between low and high: still pressure (no flapping at low).
  u = d.observe(at(30), 120 * kMiB, kTotal);
  EXPECT_EQ(u.level, PressureLevel::kPressure);
  EXPECT_EQ(u.changed_from, PressureLevel::kOutOfMemory);
  u = d.observe(at(40), 149 * kMiB, kTotal);
  EXPECT_EQ(u.level, PressureLevel::kPressure);
  EXPECT_FALSE(u.changed_from);
  u = d.observe(at(50), 151 * kMiB, kTotal);
  EXPECT_EQ(u.level, PressureLevel::kClear);
  EXPECT_EQ(u.changed_from, PressureLevel::kPressure);
  // From clear, rising into the low..high band is still clear.
  EXPECT_EQ(d.observe(at(60), 120 * kMiB, kTotal).level, PressureLevel::kClear);
}

TEST(WatermarkDetectorTest, ExactlyAtALineCountsAsAboveIt) {
  WatermarkDetector d(Watermarks{});
  EXPECT_EQ(d.observe(at(0), 100 * kMiB, kTotal).level, PressureLevel::kClear);    // = low
  EXPECT_EQ(d.observe(at(1), 50 * kMiB, kTotal).level, PressureLevel::kPressure);  // = min
  EXPECT_EQ(d.observe(at(2), 50 * kMiB - 1, kTotal).level, PressureLevel::kOutOfMemory);
}

TEST(WatermarkDetectorTest, SizesAndAChangingTotal) {
  Watermarks sizes{MemoryAmount::ofBytes(10 * kMiB), MemoryAmount::ofBytes(20 * kMiB),
                   MemoryAmount::ofBytes(30 * kMiB)};
  WatermarkDetector d(sizes);
  EXPECT_EQ(d.observe(at(0), 15 * kMiB, 100 * kMiB).level, PressureLevel::kPressure);
  // A percentage follows the total (e.g. a raised cgroup limit).
  WatermarkDetector p(Watermarks{});
  EXPECT_EQ(p.observe(at(0), 60 * kMiB, kTotal).level, PressureLevel::kPressure);
  const auto u = p.observe(at(1), 60 * kMiB, 2 * kTotal);
  EXPECT_EQ(u.level, PressureLevel::kOutOfMemory);
  EXPECT_EQ(u.watermarks.min_bytes, 100 * kMiB);
}

TEST(WatermarkDetectorTest, SamplesSeldomWhenFarAndOftenWhenNearOrFilling) {
  SamplingConfig limits;
  limits.fill_rate_bytes = 1000 * kMiB;  // 1000 MiB/s
  WatermarkDetector d(Watermarks{}, limits);
  // 950 MiB above min at an assumed 1000 MiB/s: 0.95 s to min, halved: 475 ms.
  auto u = d.observe(at(0), 1000 * kMiB, 10 * kTotal / 10);
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(u.next_sample_in).count(), 475);
  // Filling at 4000 MiB/s (400 MiB in 100 ms): faster than assumed, so sooner.
  u = d.observe(at(100), 600 * kMiB, kTotal);
  // Smoothed: 0.7 * 4000 MiB/s = 2800 MiB/s; 550 MiB of headroom / 2800 MiB/s / 2 = 98 ms.
  EXPECT_NEAR(u.fill_rate, 2800.0 * kMiB, 1.0 * kMiB);
  using Millis = std::chrono::duration<double, std::milli>;
  EXPECT_NEAR(Millis(u.next_sample_in).count(), 98.2, 0.5);
  // At low: the floor.
  u = d.observe(at(110), 100 * kMiB, kTotal);
  EXPECT_EQ(u.next_sample_in, limits.min_interval);
  // Far and idle on a big machine: the ceiling.
  WatermarkDetector idle(Watermarks{}, limits);
  EXPECT_EQ(idle.observe(at(0), 20000 * kMiB, 24000 * kMiB).next_sample_in, limits.max_interval);
}

TEST(WatermarkDetectorTest, TheDefaultsSampleAMachineWithTwentyGigabytesFreeEveryTwoSeconds) {
  // 24 GiB, min 5% (1.2 GiB), 22.8 GiB available: 21.6 GiB of headroom at 4 GiB/s, halved,
  // is 2.7 s: the 2 s ceiling. With 8 GiB (6.9 GiB of headroom): 0.86 s.
  WatermarkDetector big(Watermarks{});
  EXPECT_EQ(big.observe(at(0), 23347 * kMiB, 24576 * kMiB).next_sample_in, std::chrono::seconds(2));
  WatermarkDetector small(Watermarks{});
  const auto u = small.observe(at(0), 7500 * kMiB, 8192 * kMiB);
  using Millis = std::chrono::duration<double, std::milli>;
  EXPECT_NEAR(Millis(u.next_sample_in).count(), (7500.0 - 409.6) / 4096 / 2 * 1000, 0.5);
}

TEST(WatermarkDetectorTest, TheConfiguredIntervalsAndRateApply) {
  SamplingConfig sampling;
  sampling.min_interval = Millis(20);
  sampling.max_interval = Millis(300);
  sampling.fill_rate_bytes = 100 * kMiB;
  WatermarkDetector d(Watermarks{}, sampling);
  // 850 MiB of headroom at 100 MiB/s, halved: 4.25 s, so the ceiling.
  EXPECT_EQ(d.observe(at(0), 900 * kMiB, kTotal).next_sample_in, milliseconds(300));
  // 700 MiB used in 1 s (smoothed: 490 MiB/s, above the configured rate): 150 MiB of
  // headroom / 490 MiB/s / 2 = 153 ms. At low, the floor.
  const auto filling = d.observe(at(1000), 200 * kMiB, kTotal).next_sample_in;
  using FloatMillis = std::chrono::duration<double, std::milli>;
  EXPECT_NEAR(FloatMillis(filling).count(), 153.1, 0.5);
  EXPECT_EQ(d.observe(at(2000), 90 * kMiB, kTotal).next_sample_in, milliseconds(20));
}

TEST(WatermarkDetectorTest, DrainingDoesNotCountAsFilling) {
  WatermarkDetector d(Watermarks{});
  d.observe(at(0), 300 * kMiB, kTotal);
  const auto u = d.observe(at(100), 600 * kMiB, kTotal);
  EXPECT_EQ(u.fill_rate, 0.0);
}

}  // namespace
}  // namespace oomkit::core
