// Tests for core/psi.h: parsing pressure files (kernel/sched/psi.c psi_show()), trigger text
// and validation (psi_trigger_create()), and PsiWindow, the sampling version of a trigger
// (Documentation/accounting/psi.rst: growth of total within a sliding window ≥ threshold).
#include "oomkit/core/psi.h"

#include <chrono>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace oomkit::core {
namespace {

using std::chrono::milliseconds;
using Time = PsiWindow::Time;

// `cat /proc/pressure/memory` on 6.18.
constexpr std::string_view kMemory =
    "some avg10=0.00 avg60=0.00 avg300=0.00 total=489331\n"
    "full avg10=0.00 avg60=0.00 avg300=0.00 total=124316\n";

TEST(PsiParseTest, ReadsBothLines) {
  auto stats = parsePressure(kMemory);
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->some.total_us, 489331u);
  ASSERT_TRUE(stats->full);
  EXPECT_EQ(stats->full->total_us, 124316u);
}

TEST(PsiParseTest, ReadsAverages) {
  auto stats = parsePressure(
      "some avg10=1.25 avg60=0.44 avg300=10.32 total=5531679308\n"
      "full avg10=100.00 avg60=0.07 avg300=0 total=0\n");
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_DOUBLE_EQ(stats->some.avg10, 1.25);
  EXPECT_DOUBLE_EQ(stats->some.avg60, 0.44);
  EXPECT_DOUBLE_EQ(stats->some.avg300, 10.32);
  EXPECT_EQ(stats->some.total_us, 5531679308u);
  EXPECT_DOUBLE_EQ(stats->full->avg10, 100.0);
  EXPECT_DOUBLE_EQ(stats->full->avg60, 0.07);
  EXPECT_DOUBLE_EQ(stats->full->avg300, 0.0);
}

struct AcceptCase {
  std::string_view name;
  std::string_view text;
  uint64_t some_total;
  std::optional<uint64_t> full_total;
};

TEST(PsiParseTest, AcceptTable) {
  const AcceptCase cases[] = {
      {"no full line (cpu before 5.13)", "some avg10=0.00 avg60=0.00 avg300=0.00 total=7\n", 7,
       std::nullopt},
      {"no trailing newline", "some avg10=0.00 avg60=0.00 avg300=0.00 total=7", 7, std::nullopt},
      {"full before some",
       "full avg10=0 avg60=0 avg300=0 total=2\nsome avg10=0 avg60=0 "
       "avg300=0 total=3\n",
       3, 2},
      {"blank lines", "\nsome avg10=0 avg60=0 avg300=0 total=3\n\n", 3, std::nullopt},
      {"extra spaces", "some  avg10=0.00   avg60=0.00 avg300=0.00 total=9 \n", 9, std::nullopt},
      {"unknown key=value field", "some avg10=0 avg60=0 avg300=0 avg1=3 total=4\n", 4,
       std::nullopt},
      {"fields in another order", "some total=5 avg300=0 avg60=0 avg10=0\n", 5, std::nullopt},
      {"largest total", "some avg10=0 avg60=0 avg300=0 total=18446744073709551615\n",
       18446744073709551615u, std::nullopt},
  };
  for (const auto& c : cases) {
    auto stats = parsePressure(c.text);
    ASSERT_TRUE(stats) << c.name << ": " << stats.error().message;
    EXPECT_EQ(stats->some.total_us, c.some_total) << c.name;
    EXPECT_EQ(stats->full ? std::optional(stats->full->total_us) : std::nullopt, c.full_total)
        << c.name;
  }
}

struct RejectCase {
  std::string_view name;
  std::string_view text;
  std::string_view message_has;
};

TEST(PsiParseTest, RejectTable) {
  const RejectCase cases[] = {
      {"empty", "", "no 'some' line"},
      {"only full", "full avg10=0 avg60=0 avg300=0 total=1\n", "no 'some' line"},
      {"unknown line", "some avg10=0 avg60=0 avg300=0 total=1\nhalf avg10=0\n",
       "line 2: is not a 'some' or 'full' line"},
      {"some twice",
       "some avg10=0 avg60=0 avg300=0 total=1\nsome avg10=0 avg60=0 avg300=0 total=2\n",
       "some: appears twice"},
      {"no total", "some avg10=0.00 avg60=0.00 avg300=0.00\n", "some: no total"},
      {"no avg60", "some avg10=0.00 avg300=0.00 total=1\n", "some: no avg60"},
      {"total twice", "some avg10=0 avg60=0 avg300=0 total=1 total=2\n", "total: appears twice"},
      {"negative total", "some avg10=0 avg60=0 avg300=0 total=-1\n", "total: is not a number"},
      {"total overflows", "some avg10=0 avg60=0 avg300=0 total=18446744073709551616\n",
       "total: is not a number"},
      {"total with unit", "some avg10=0 avg60=0 avg300=0 total=12us\n", "total: is not a number"},
      {"empty total", "some avg10=0 avg60=0 avg300=0 total=\n", "total: is not a number"},
      {"bad average", "some avg10=0.0x avg60=0 avg300=0 total=1\n", "avg10: is not a percentage"},
      {"average without digits", "some avg10=. avg60=0 avg300=0 total=1\n",
       "avg10: is not a percentage"},
      {"signed average", "some avg10=-1.00 avg60=0 avg300=0 total=1\n",
       "avg10: is not a percentage"},
      {"bare word", "some avg10=0 avg60=0 avg300=0 total=1 junk\n", "is not 'key=value'"},
      {"empty key", "some =3 avg10=0 avg60=0 avg300=0 total=1\n", "is not 'key=value'"},
      {"bad full line", "some avg10=0 avg60=0 avg300=0 total=1\nfull avg10=0 total=x\n",
       "line 2: full: total: is not a number"},
  };
  for (const auto& c : cases) {
    auto stats = parsePressure(c.text);
    ASSERT_FALSE(stats) << c.name;
    EXPECT_EQ(stats.error().code, Errc::kParse) << c.name;
    EXPECT_NE(stats.error().message.find(c.message_has), std::string::npos)
        << c.name << ": " << stats.error().message;
  }
}

TEST(PsiTriggerTextTest, IsWhatTheKernelParses) {
  EXPECT_EQ(psiTriggerText(PsiKind::kSome, milliseconds(150), milliseconds(1000)),
            "some 150000 1000000");
  EXPECT_EQ(psiTriggerText(PsiKind::kFull, milliseconds(50), milliseconds(2000)),
            "full 50000 2000000");
  EXPECT_EQ(psiKindName(PsiKind::kSome), "some");
  EXPECT_EQ(psiKindName(PsiKind::kFull), "full");
}

TEST(PsiTriggerTextTest, ValidationFollowsPsiTriggerCreate) {
  EXPECT_TRUE(validatePsiTrigger(milliseconds(150), milliseconds(1000)));
  EXPECT_TRUE(validatePsiTrigger(milliseconds(1000), milliseconds(1000)));  // threshold = window
  EXPECT_TRUE(validatePsiTrigger(milliseconds(1), milliseconds(10000)));
  const std::pair<milliseconds, milliseconds> bad[] = {
      {milliseconds(0), milliseconds(1000)},  {milliseconds(1001), milliseconds(1000)},
      {milliseconds(10), milliseconds(0)},    {milliseconds(10), milliseconds(10001)},
      {milliseconds(-1), milliseconds(1000)},
  };
  for (const auto& [threshold, window] : bad) {
    auto status = validatePsiTrigger(threshold, window);
    ASSERT_FALSE(status) << threshold.count() << "/" << window.count();
    EXPECT_EQ(status.error().code, Errc::kInvalidArgument);
  }
}

Time at(int ms) {
  return Time(milliseconds(ms));
}

PsiWindow window(int threshold_ms, int window_ms) {
  return PsiWindow(milliseconds(threshold_ms), milliseconds(window_ms));
}

TEST(PsiWindowTest, FiresWhenGrowthWithinTheWindowReachesTheThreshold) {
  PsiWindow w = window(100, 1000);
  EXPECT_FALSE(*w.observe(at(0), 5'000'000));
  EXPECT_FALSE(*w.observe(at(100), 5'050'000));
  EXPECT_EQ(w.stall(), milliseconds(50));
  EXPECT_FALSE(*w.observe(at(200), 5'099'999));
  EXPECT_TRUE(*w.observe(at(300), 5'100'000));  // exactly the threshold: fires (≥)
  EXPECT_TRUE(w.exceeded());
  EXPECT_EQ(w.stall(), milliseconds(100));
}

TEST(PsiWindowTest, OneReadingIsNoStall) {
  PsiWindow w = window(1, 1000);
  EXPECT_FALSE(*w.observe(at(0), 123456));
  EXPECT_EQ(w.stall(), milliseconds(0));
}

TEST(PsiWindowTest, StallOlderThanTheWindowDropsOut) {
  PsiWindow w = window(100, 1000);
  EXPECT_FALSE(*w.observe(at(0), 0));
  EXPECT_TRUE(*w.observe(at(100), 200'000));  // a 200 ms burst
  // Quiet afterwards: still within the window at 1000 ms (the burst is in (0, 1000]).
  EXPECT_TRUE(*w.observe(at(1000), 200'000));
  // At 1100 the window is (100, 1100]: the burst ended at 100, so it has dropped out.
  EXPECT_FALSE(*w.observe(at(1100), 200'000));
  EXPECT_EQ(w.stall(), milliseconds(0));
  EXPECT_FALSE(*w.observe(at(5000), 200'000));
  // Only the reading just before the window's start and those inside it are kept.
  EXPECT_EQ(w.readingsKept(), 2u);
}

TEST(PsiWindowTest, InterpolatesTheTotalAtTheWindowsStart) {
  PsiWindow w = window(100, 1000);
  EXPECT_FALSE(*w.observe(at(0), 0));
  // 400 ms of stall spread evenly over 0..2000, as far as two readings tell: at 2000 the
  // window (1000, 2000] holds half of it; at 2500 the window is (1500, 2500], and the growth
  // from 1500 to 2000 is taken as a quarter of it.
  EXPECT_TRUE(*w.observe(at(2000), 400'000));
  EXPECT_EQ(w.stall(), milliseconds(200));
  EXPECT_TRUE(*w.observe(at(2500), 400'000));
  EXPECT_EQ(w.stall(), milliseconds(100));
  EXPECT_FALSE(*w.observe(at(2600), 400'000));  // (1600, 2600]: 80 ms
  EXPECT_EQ(w.stall(), milliseconds(80));
}

TEST(PsiWindowTest, SlowSteadyStallBelowTheRateNeverFires) {
  PsiWindow w = window(100, 1000);
  uint64_t total = 0;
  for (int ms = 0; ms <= 20000; ms += 100) {
    EXPECT_FALSE(*w.observe(at(ms), total)) << ms;  // 9 ms per 100 ms: 90 ms per window
    total += 9000;
  }
  EXPECT_LE(w.readingsKept(), 12u);  // bounded: a window's readings plus the one before
}

TEST(PsiWindowTest, SteadyStallAtTheRateFires) {
  PsiWindow w = window(100, 1000);
  uint64_t total = 0;
  bool fired = false;
  for (int ms = 0; ms <= 3000; ms += 100) {
    fired = *w.observe(at(ms), total);
    total += 10000;  // 10 ms per 100 ms: 100 ms per window
  }
  EXPECT_TRUE(fired);
}

TEST(PsiWindowTest, CounterGoingBackwardsRestartsTheWindow) {
  PsiWindow w = window(100, 1000);
  EXPECT_FALSE(*w.observe(at(0), 1'000'000));
  EXPECT_TRUE(*w.observe(at(100), 1'200'000));
  auto backwards = w.observe(at(200), 50);
  ASSERT_FALSE(backwards);
  EXPECT_EQ(backwards.error().code, Errc::kInvalidArgument);
  EXPECT_NE(backwards.error().message.find("went backwards"), std::string::npos);
  EXPECT_FALSE(w.exceeded());
  // Judged against the new counter from here on.
  EXPECT_FALSE(*w.observe(at(300), 50'050));
  EXPECT_EQ(w.stall(), milliseconds(50));
  EXPECT_TRUE(*w.observe(at(400), 100'050));
}

TEST(PsiWindowTest, ReadingOlderThanThePreviousIsRejectedAndIgnored) {
  PsiWindow w = window(100, 1000);
  EXPECT_FALSE(*w.observe(at(500), 0));
  auto older = w.observe(at(400), 500'000);
  ASSERT_FALSE(older);
  EXPECT_EQ(older.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(w.readingsKept(), 1u);
  EXPECT_FALSE(*w.observe(at(600), 50'000));
  EXPECT_EQ(w.stall(), milliseconds(50));
}

TEST(PsiWindowTest, ReadingAtTheSameTimeReplacesThePrevious) {
  PsiWindow w = window(100, 1000);
  EXPECT_FALSE(*w.observe(at(0), 0));
  EXPECT_FALSE(*w.observe(at(100), 10'000));
  EXPECT_TRUE(*w.observe(at(100), 150'000));
  EXPECT_EQ(w.readingsKept(), 2u);
  EXPECT_EQ(w.stall(), milliseconds(150));
}

}  // namespace
}  // namespace oomkit::core
