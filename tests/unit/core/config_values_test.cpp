#include "oomkit/core/config_values.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace oomkit::core {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kKiB = 1ULL << 10;
constexpr uint64_t kMiB = 1ULL << 20;
constexpr uint64_t kGiB = 1ULL << 30;
constexpr uint64_t kTiB = 1ULL << 40;

struct Rejected {
  std::string_view input;
  std::string message;
};

TEST(ParseMemoryAmountTest, AcceptsPercentagesAndSizes) {
  struct Case {
    std::string_view input;
    MemoryAmount expected;
  };
  const std::vector<Case> cases = {
      {"5%", MemoryAmount::ofPercent(5)},
      {"0%", MemoryAmount::ofPercent(0)},
      {"100%", MemoryAmount::ofPercent(100)},
      {"0.5%", MemoryAmount::ofPercent(0.5)},
      {"12.5%", MemoryAmount::ofPercent(12.5)},
      {"512M", MemoryAmount::ofBytes(512 * kMiB)},
      {"2G", MemoryAmount::ofBytes(2 * kGiB)},
      {"1.5G", MemoryAmount::ofBytes(3 * kGiB / 2)},
      {"1048576", MemoryAmount::ofBytes(1048576)},
      {"0", MemoryAmount::ofBytes(0)},
      {"64K", MemoryAmount::ofBytes(64 * kKiB)},
      {"64KiB", MemoryAmount::ofBytes(64 * kKiB)},
      {"3MiB", MemoryAmount::ofBytes(3 * kMiB)},
      {"2GiB", MemoryAmount::ofBytes(2 * kGiB)},
      {"1T", MemoryAmount::ofBytes(kTiB)},
      {"1TiB", MemoryAmount::ofBytes(kTiB)},
      {"0.5K", MemoryAmount::ofBytes(512)},
      {"1.3K", MemoryAmount::ofBytes(1331)},  // 1331.2 rounds down
      {"18446744073709551615", MemoryAmount::ofBytes(UINT64_MAX)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);

    const auto amount = parseMemoryAmount(c.input);

    ASSERT_TRUE(amount) << amount.error().message;
    EXPECT_EQ(*amount, c.expected);
  }
}

TEST(ParseMemoryAmountTest, RejectsAnythingElseWithAMessageNamingTheText) {
  const std::vector<Rejected> cases = {
      {"", "'' is not a size (such as \"512M\", \"1.5G\" or \"1048576\")"},
      {"abc", "'abc' is not a size (such as \"512M\", \"1.5G\" or \"1048576\")"},
      {"-5%", "'-5%' is not a percentage (such as \"5%\" or \"0.5%\")"},
      {"%", "'%' is not a percentage (such as \"5%\" or \"0.5%\")"},
      {"150%", "'150%' is not between 0% and 100%"},
      {"100.1%", "'100.1%' is not between 0% and 100%"},
      {"5MB", "'5MB' has an unknown unit 'MB' (use K, M, G or T, or KiB, MiB, GiB or TiB)"},
      {"5m", "'5m' has an unknown unit 'm' (use K, M, G or T, or KiB, MiB, GiB or TiB)"},
      {"5 M", "'5 M' has an unknown unit ' M' (use K, M, G or T, or KiB, MiB, GiB or TiB)"},
      {"1.5", "'1.5' is not a whole number of bytes"},
      {".5G", "'.5G' is not a size (such as \"512M\", \"1.5G\" or \"1048576\")"},
      {"5.G", "'5.G' is not a size (such as \"512M\", \"1.5G\" or \"1048576\")"},
      {"1.2.3G", "'1.2.3G' is not a size (such as \"512M\", \"1.5G\" or \"1048576\")"},
      {"1e3", "'1e3' has an unknown unit 'e3' (use K, M, G or T, or KiB, MiB, GiB or TiB)"},
      {"-1", "'-1' is not a size (such as \"512M\", \"1.5G\" or \"1048576\")"},
      {"18446744073709551616", "'18446744073709551616' is too large"},
      {"99999999T", "'99999999T' is too large"},
      {"99999999.5T", "'99999999.5T' is too large"},
  };
  for (const Rejected& c : cases) {
    SCOPED_TRACE(c.input);

    const auto amount = parseMemoryAmount(c.input);

    ASSERT_FALSE(amount);
    EXPECT_EQ(amount.error().code, Errc::kInvalidArgument);
    EXPECT_EQ(amount.error().message, c.message);
  }
}

TEST(ParseByteSizeTest, AcceptsSizesButNotPercentages) {
  EXPECT_EQ(parseByteSize("256M").value_or(0), 256 * kMiB);

  const auto pct = parseByteSize("5%");

  ASSERT_FALSE(pct);
  EXPECT_EQ(pct.error().message, "'5%' is a percentage; a size is needed here (such as \"512M\")");
}

TEST(ParseDurationTest, AcceptsANumberAndAUnit) {
  struct Case {
    std::string_view input;
    Millis expected;
  };
  const std::vector<Case> cases = {
      {"500ms", 500ms}, {"2s", 2s},     {"1.5s", 1500ms}, {"1m", 1min},   {"1h", 1h},
      {"0s", 0ms},      {"0.5ms", 0ms}, {"90s", 90s},     {"0.25m", 15s}, {"10000ms", 10s},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);

    const auto duration = parseDuration(c.input);

    ASSERT_TRUE(duration) << duration.error().message;
    EXPECT_EQ(*duration, c.expected);
  }
}

TEST(ParseDurationTest, RejectsAnythingElseWithAMessageNamingTheText) {
  const std::vector<Rejected> cases = {
      {"", "'' is not a duration (such as \"500ms\", \"2s\" or \"1m\")"},
      {"2", "'2' has no unit (use ms, s, m or h)"},
      {"2x", "'2x' has an unknown unit 'x' (use ms, s, m or h)"},
      {"2 s", "'2 s' has an unknown unit ' s' (use ms, s, m or h)"},
      {"2S", "'2S' has an unknown unit 'S' (use ms, s, m or h)"},
      {"-1s", "'-1s' is not a duration (such as \"500ms\", \"2s\" or \"1m\")"},
      {"s", "'s' is not a duration (such as \"500ms\", \"2s\" or \"1m\")"},
      {"99999999999h", "'99999999999h' is too long"},
  };
  for (const Rejected& c : cases) {
    SCOPED_TRACE(c.input);

    const auto duration = parseDuration(c.input);

    ASSERT_FALSE(duration);
    EXPECT_EQ(duration.error().code, Errc::kInvalidArgument);
    EXPECT_EQ(duration.error().message, c.message);
  }
}

TEST(ResolveAmountTest, APercentageIsOfTheTotalRoundedDownAndBytesStayAsGiven) {
  EXPECT_EQ(resolveAmount(MemoryAmount::ofPercent(5), 1000), 50U);
  EXPECT_EQ(resolveAmount(MemoryAmount::ofPercent(10), 7), 0U);
  EXPECT_EQ(resolveAmount(MemoryAmount::ofPercent(12.5), 8 * kGiB), kGiB);
  EXPECT_EQ(resolveAmount(MemoryAmount::ofPercent(100), UINT64_MAX), UINT64_MAX);
  EXPECT_EQ(resolveAmount(MemoryAmount::ofBytes(3 * kGiB), kGiB), 3 * kGiB);
}

TEST(FormatTest, SpellsValuesTheWayTheFileDoes) {
  EXPECT_EQ(formatMemoryAmount(MemoryAmount::ofPercent(5)), "5%");
  EXPECT_EQ(formatMemoryAmount(MemoryAmount::ofPercent(12.5)), "12.5%");
  EXPECT_EQ(formatMemoryAmount(MemoryAmount::ofBytes(512 * kMiB)), "512M");
  EXPECT_EQ(formatBytes(3 * kGiB / 2), "1536M");
  EXPECT_EQ(formatBytes(2 * kTiB), "2T");
  EXPECT_EQ(formatBytes(1000), "1000");
  EXPECT_EQ(formatBytes(0), "0");
  EXPECT_EQ(formatDuration(2000ms), "2s");
  EXPECT_EQ(formatDuration(60s), "1m");
  EXPECT_EQ(formatDuration(90s), "90s");
  EXPECT_EQ(formatDuration(1500ms), "1500ms");
  EXPECT_EQ(formatDuration(2h), "2h");
  EXPECT_EQ(formatDuration(0ms), "0ms");
  EXPECT_EQ(formatDuration(-5ms), "-5ms");
}

}  // namespace
}  // namespace oomkit::core
