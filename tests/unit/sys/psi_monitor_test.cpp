// Tests for sys::PsiMonitor without the kernel's PSI: the sampling mode on a pressure file in a
// temporary directory (successive `total=` values written by the test), spec validation, and
// the refusal to put a trigger on a file that is not a kernel pressure file. The modes on the
// real /proc/pressure/memory (kernel/sched/psi.c triggers) are in
// tests/integration/psi_monitor_live_test.cpp.
#include "oomkit/sys/psi_monitor.h"

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "oomkit/sys/files.h"

namespace oomkit::sys {
namespace {

using std::chrono::milliseconds;
using Time = std::chrono::steady_clock::time_point;

class PsiMonitorSamplingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("oomkit-psi-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "memory.pressure").string();
    setTotals(1'000'000, 400'000);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Rewrites the file as the kernel would show these totals (µs).
  void setTotals(uint64_t some_us, std::optional<uint64_t> full_us) {
    std::ofstream out(path_, std::ios::trunc);
    out << "some avg10=0.00 avg60=0.00 avg300=0.00 total=" << some_us << "\n";
    if (full_us) out << "full avg10=0.00 avg60=0.00 avg300=0.00 total=" << *full_us << "\n";
  }

  PsiSpec spec(std::optional<int> some_ms, std::optional<int> full_ms, int window_ms = 1000) {
    PsiSpec s;
    s.pressure_file = path_;
    if (some_ms) s.some_threshold = milliseconds(*some_ms);
    if (full_ms) s.full_threshold = milliseconds(*full_ms);
    s.window = milliseconds(window_ms);
    return s;
  }

  // Opens in sampling mode; times for sample() are then `start_ + offset`.
  PsiMonitor openSampling(const PsiSpec& s) {
    auto monitor = PsiMonitor::open(s, PsiMode::kSampling);
    EXPECT_TRUE(monitor) << monitor.error().message;
    start_ = std::chrono::steady_clock::now();
    return std::move(monitor).value();
  }

  Time at(int ms) const { return start_ + milliseconds(ms); }

  std::filesystem::path dir_;
  std::string path_;
  Time start_;
};

TEST_F(PsiMonitorSamplingTest, FiresWhenTheStallWithinTheWindowReachesTheThreshold) {
  PsiMonitor monitor = openSampling(spec(100, std::nullopt));
  EXPECT_EQ(monitor.mode(), PsiMode::kSampling);
  EXPECT_TRUE(monitor.fds().empty());
  setTotals(1'040'000, 400'000);
  EXPECT_FALSE(*monitor.sample(at(100)));
  EXPECT_EQ(monitor.lastStall(core::PsiKind::kSome), milliseconds(40));
  setTotals(1'099'000, 400'000);
  EXPECT_FALSE(*monitor.sample(at(200)));
  setTotals(1'100'000, 400'000);
  EXPECT_TRUE(*monitor.sample(at(300)));
  EXPECT_EQ(monitor.lastStall(core::PsiKind::kSome), milliseconds(100));
  EXPECT_FALSE(monitor.lastStall(core::PsiKind::kFull));
}

TEST_F(PsiMonitorSamplingTest, StallOlderThanTheWindowStopsCounting) {
  PsiMonitor monitor = openSampling(spec(100, std::nullopt));
  setTotals(1'300'000, 400'000);  // a 300 ms burst right after open
  EXPECT_TRUE(*monitor.sample(at(100)));
  EXPECT_TRUE(*monitor.sample(at(900)));  // quiet since, but the burst is within the window
  EXPECT_FALSE(*monitor.sample(at(1200)));
  EXPECT_FALSE(*monitor.sample(at(2500)));
}

TEST_F(PsiMonitorSamplingTest, FullThresholdWatchesTheFullLine) {
  PsiMonitor monitor = openSampling(spec(std::nullopt, 50));
  setTotals(2'000'000, 440'000);  // lots of "some", 40 ms of "full"
  EXPECT_FALSE(*monitor.sample(at(100)));
  EXPECT_EQ(monitor.lastStall(core::PsiKind::kFull), milliseconds(40));
  setTotals(2'000'000, 450'000);
  EXPECT_TRUE(*monitor.sample(at(200)));
}

TEST_F(PsiMonitorSamplingTest, EitherThresholdFires) {
  PsiMonitor monitor = openSampling(spec(500, 50));
  setTotals(1'100'000, 460'000);
  EXPECT_TRUE(*monitor.sample(at(100)));  // full: 60 ms ≥ 50
  EXPECT_EQ(monitor.lastStall(core::PsiKind::kSome), milliseconds(100));
  setTotals(1'700'000, 460'000);
  EXPECT_TRUE(*monitor.sample(at(200)));  // some: 700 ms ≥ 500
}

TEST_F(PsiMonitorSamplingTest, FullThresholdNeedsAFullLine) {
  setTotals(1'000'000, std::nullopt);
  auto monitor = PsiMonitor::open(spec(std::nullopt, 50), PsiMode::kSampling);
  ASSERT_FALSE(monitor);
  EXPECT_EQ(monitor.error().code, Errc::kUnavailable);
  EXPECT_NE(monitor.error().message.find("no 'full' line"), std::string::npos);
  // A "some" threshold alone is fine without it.
  EXPECT_TRUE(PsiMonitor::open(spec(50, std::nullopt), PsiMode::kSampling));
}

TEST_F(PsiMonitorSamplingTest, AMissingFileIsUnavailable) {
  PsiSpec s = spec(100, std::nullopt);
  s.pressure_file = (dir_ / "no-such-cgroup" / "memory.pressure").string();
  for (const auto& forced : {std::optional<PsiMode>(), std::optional(PsiMode::kSampling),
                             std::optional(PsiMode::kKernelTrigger)}) {
    auto monitor = PsiMonitor::open(s, forced);
    ASSERT_FALSE(monitor);
    EXPECT_EQ(monitor.error().code, Errc::kUnavailable);
    EXPECT_NE(monitor.error().message.find("no such file"), std::string::npos);
  }
}

TEST_F(PsiMonitorSamplingTest, InvalidSpecsAreRejectedBeforeAnyMode) {
  const PsiSpec bad[] = {
      spec(std::nullopt, std::nullopt),  // no threshold
      spec(0, std::nullopt),             // zero threshold
      spec(1001, std::nullopt),          // threshold above the window
      spec(std::nullopt, 2000),          // full threshold above the window
      spec(100, std::nullopt, 0),        // zero window
      spec(100, std::nullopt, 10001),    // window above the kernel's 10 s
  };
  for (const PsiSpec& s : bad) {
    auto monitor = PsiMonitor::open(s);
    ASSERT_FALSE(monitor);
    EXPECT_EQ(monitor.error().code, Errc::kInvalidArgument) << monitor.error().message;
  }
  PsiSpec no_file = spec(100, std::nullopt);
  no_file.pressure_file.clear();
  EXPECT_EQ(PsiMonitor::open(no_file).error().code, Errc::kInvalidArgument);
}

TEST_F(PsiMonitorSamplingTest, AFileOutsideProcfsAndCgroup2GetsNoTrigger) {
  // O_RDWR and write() "work" on a plain file, but nothing would ever fire.
  auto forced = PsiMonitor::open(spec(100, std::nullopt), PsiMode::kKernelTrigger);
  ASSERT_FALSE(forced);
  EXPECT_NE(forced.error().message.find("neither procfs nor cgroup2"), std::string::npos);
  auto automatic = PsiMonitor::open(spec(100, std::nullopt));
  ASSERT_TRUE(automatic) << automatic.error().message;
  EXPECT_EQ(automatic->mode(), PsiMode::kSampling);
  EXPECT_NE(automatic->fallbackReason().find("neither procfs nor cgroup2"), std::string::npos);
  // The file was not written to.
  auto text = readFile(path_);
  ASSERT_TRUE(text);
  EXPECT_EQ(text->rfind("some avg10=", 0), 0u) << *text;
}

TEST_F(PsiMonitorSamplingTest, TheFileGoingAwayIsNotFound) {
  PsiMonitor monitor = openSampling(spec(100, std::nullopt));
  std::filesystem::remove(path_);
  auto sampled = monitor.sample(at(100));
  ASSERT_FALSE(sampled);
  EXPECT_EQ(sampled.error().code, Errc::kNotFound);
}

TEST_F(PsiMonitorSamplingTest, MalformedTextIsAParseError) {
  PsiMonitor monitor = openSampling(spec(100, std::nullopt));
  {
    std::ofstream out(path_, std::ios::trunc);
    out << "some avg10=0.00 avg60=0.00 total=12\n";
  }
  auto sampled = monitor.sample(at(100));
  ASSERT_FALSE(sampled);
  EXPECT_EQ(sampled.error().code, Errc::kParse);
  EXPECT_NE(sampled.error().message.find(path_), std::string::npos);
  EXPECT_NE(sampled.error().message.find("no avg300"), std::string::npos);
}

TEST_F(PsiMonitorSamplingTest, ACounterGoingBackwardsIsReportedAndTheWindowRestarts) {
  PsiMonitor monitor = openSampling(spec(100, std::nullopt));
  setTotals(10, 0);  // the cgroup was removed and made again
  auto sampled = monitor.sample(at(100));
  ASSERT_FALSE(sampled);
  EXPECT_NE(sampled.error().message.find("went backwards"), std::string::npos);
  setTotals(100'010, 0);
  EXPECT_TRUE(*monitor.sample(at(200)));
}

TEST_F(PsiMonitorSamplingTest, TimeGoingBackwardsIsAnError) {
  PsiMonitor monitor = openSampling(spec(100, std::nullopt));
  EXPECT_FALSE(*monitor.sample(at(100)));
  EXPECT_FALSE(monitor.sample(at(50)));
}

TEST_F(PsiMonitorSamplingTest, DescribeNamesFileThresholdsWindowAndMode) {
  PsiMonitor monitor = openSampling(spec(150, 50));
  const std::string line = monitor.describe();
  EXPECT_EQ(line, path_ + ": some 150ms, full 50ms per 1s: sampling every 100ms (forced)");
  EXPECT_EQ(psiModeName(PsiMode::kKernelTrigger), "kernel trigger");
  EXPECT_EQ(psiModeName(PsiMode::kUserNamespaceTrigger), "user-namespace trigger");
  EXPECT_EQ(psiModeName(PsiMode::kSampling), "sampling");
}

TEST_F(PsiMonitorSamplingTest, SamplingIntervalIsATenthOfTheWindowAndAtLeast50ms) {
  EXPECT_EQ(openSampling(spec(100, std::nullopt, 1000)).samplingInterval(), milliseconds(100));
  EXPECT_EQ(openSampling(spec(100, std::nullopt, 10000)).samplingInterval(), milliseconds(1000));
  EXPECT_EQ(openSampling(spec(100, std::nullopt, 200)).samplingInterval(), milliseconds(50));
}

TEST_F(PsiMonitorSamplingTest, TriggerCallsAreErrorsWhenSampling) {
  PsiMonitor monitor = openSampling(spec(100, std::nullopt));
  auto event = monitor.onEvent(0, POLLPRI);
  ASSERT_FALSE(event);
  EXPECT_EQ(event.error().code, Errc::kInvalidArgument);
  EXPECT_FALSE(monitor.kindOf(0));
}

TEST_F(PsiMonitorSamplingTest, MovesKeepTheState) {
  PsiMonitor other = openSampling(spec(100, std::nullopt));
  PsiMonitor monitor = openSampling(spec(100, std::nullopt));
  setTotals(1'060'000, 400'000);
  EXPECT_FALSE(*monitor.sample(at(100)));
  PsiMonitor moved(std::move(monitor));
  setTotals(1'100'000, 400'000);
  EXPECT_TRUE(*moved.sample(at(200)));
  other = std::move(moved);
  EXPECT_TRUE(*other.sample(at(300)));
  EXPECT_EQ(other.mode(), PsiMode::kSampling);
}

}  // namespace
}  // namespace oomkit::sys
