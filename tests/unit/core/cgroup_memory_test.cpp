#include "oomkit/core/cgroup_memory.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "oomkit/result.h"

namespace oomkit::core {
namespace {

struct RejectCase {
  std::string name;
  std::string_view input;
};

struct LimitCase {
  std::string name;
  std::string_view input;
  MemoryLimit expected;
};

TEST(ParseV1LimitTest, ReadsValuesNearInt64MaxAsUnlimited) {
  const std::vector<LimitCase> cases = {
      {"4 KiB pages, as read on 6.18", "9223372036854771712\n", std::nullopt},
      {"3.10 res_counter RESOURCE_MAX", "9223372036854775807\n", std::nullopt},
      {"64 KiB pages", "9223372036854710272\n", std::nullopt},
      {"exactly 1 MiB below INT64_MAX", "9223372036853727231\n", std::nullopt},
      {"above INT64_MAX", "18446744073709551615\n", std::nullopt},
      {"just more than 1 MiB below INT64_MAX", "9223372036853727230\n", 9223372036853727230u},
      {"512 MiB", "536870912\n", 536870912u},
      {"zero", "0\n", 0u},
      {"no newline", "4096", 4096u},
  };
  for (const LimitCase& c : cases) {
    SCOPED_TRACE(c.name);

    const auto limit = parseV1Limit(c.input);

    ASSERT_TRUE(limit) << limit.error().message;
    EXPECT_EQ(*limit, c.expected);
  }
}

TEST(ParseV1LimitTest, RejectsMalformedText) {
  const std::vector<RejectCase> cases = {
      {"empty", ""},
      {"minus one", "-1\n"},
      {"max is v2 only", "max\n"},
      {"overflow", "18446744073709551616\n"},
      {"suffix", "512M\n"},
      {"blank", " 5\n"},
  };
  for (const RejectCase& c : cases) {
    SCOPED_TRACE(c.name);

    const auto limit = parseV1Limit(c.input);

    ASSERT_FALSE(limit);
    EXPECT_EQ(limit.error().code, Errc::kParse);
  }
}

TEST(ParseV2LimitTest, ReadsMaxAsUnlimitedAndNumbersAsBytes) {
  const std::vector<LimitCase> cases = {
      {"max", "max\n", std::nullopt},
      {"max without newline", "max", std::nullopt},
      {"bytes", "1073741824\n", 1073741824u},
      {"zero", "0\n", 0u},
      // v2 prints PAGE_COUNTER_MAX as "max", so a number this large is a real setting.
      {"large number is not unlimited", "9223372036854771712\n", 9223372036854771712u},
  };
  for (const LimitCase& c : cases) {
    SCOPED_TRACE(c.name);

    const auto limit = parseV2Limit(c.input);

    ASSERT_TRUE(limit) << limit.error().message;
    EXPECT_EQ(*limit, c.expected);
  }
}

TEST(ParseV2LimitTest, RejectsMalformedText) {
  const std::vector<RejectCase> cases = {
      {"empty", ""},
      {"MAX upper case", "MAX\n"},
      {"max with blank", "max \n"},
      {"maximum", "maximum\n"},
      {"negative", "-1\n"},
      {"suffix", "1G\n"},
  };
  for (const RejectCase& c : cases) {
    SCOPED_TRACE(c.name);

    const auto limit = parseV2Limit(c.input);

    ASSERT_FALSE(limit);
    EXPECT_EQ(limit.error().code, Errc::kParse);
  }
}

TEST(ParseBytesTest, ReadsPlainByteCounts) {
  const auto usage = parseBytes("19410944\n");
  const auto zero = parseBytes("0");

  ASSERT_TRUE(usage) << usage.error().message;
  EXPECT_EQ(*usage, 19410944u);
  ASSERT_TRUE(zero) << zero.error().message;
  EXPECT_EQ(*zero, 0u);
}

TEST(ParseBytesTest, RejectsMalformedText) {
  const std::vector<RejectCase> cases = {
      {"empty", ""},
      {"max", "max\n"},
      {"negative", "-5\n"},
      {"garbage", "12 kB\n"},
  };
  for (const RejectCase& c : cases) {
    SCOPED_TRACE(c.name);

    const auto bytes = parseBytes(c.input);

    ASSERT_FALSE(bytes);
    EXPECT_EQ(bytes.error().code, Errc::kParse);
  }
}

TEST(ParseUseHierarchyTest, ReadsZeroAndOne) {
  const auto on = parseUseHierarchy("1\n");
  const auto off = parseUseHierarchy("0\n");

  ASSERT_TRUE(on) << on.error().message;
  EXPECT_TRUE(*on);
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_FALSE(*off);
}

TEST(ParseUseHierarchyTest, RejectsAnythingElse) {
  const std::vector<RejectCase> cases = {
      {"empty", ""}, {"two", "2\n"}, {"true", "true\n"}, {"padded", "01\n"}, {"blank", "1 \n"},
  };
  for (const RejectCase& c : cases) {
    SCOPED_TRACE(c.name);

    const auto hierarchy = parseUseHierarchy(c.input);

    ASSERT_FALSE(hierarchy);
    EXPECT_EQ(hierarchy.error().code, Errc::kParse);
  }
}

TEST(ParseSwappinessTest, AcceptsZeroTo200) {
  struct Case {
    std::string name;
    std::string_view input;
    int32_t expected;
  };
  const std::vector<Case> cases = {
      {"zero", "0\n", 0},
      {"default", "60\n", 60},
      {"5.8+ maximum", "200\n", 200},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto swappiness = parseSwappiness(c.input);

    ASSERT_TRUE(swappiness) << swappiness.error().message;
    EXPECT_EQ(*swappiness, c.expected);
  }
}

TEST(ParseSwappinessTest, RejectsOutOfRangeAndMalformedText) {
  const std::vector<RejectCase> cases = {
      {"empty", ""},       {"201", "201\n"}, {"negative", "-1\n"}, {"huge", "4294967356\n"},
      {"word", "sixty\n"},
  };
  for (const RejectCase& c : cases) {
    SCOPED_TRACE(c.name);

    const auto swappiness = parseSwappiness(c.input);

    ASSERT_FALSE(swappiness);
    EXPECT_EQ(swappiness.error().code, Errc::kParse);
  }
}

// An excerpt of `cat /sys/fs/cgroup/memory/memory.stat` on 6.18.
constexpr std::string_view kMemoryStat =
    "cache 9342976\n"
    "rss 5308416\n"
    "rss_huge 0\n"
    "unevictable 12861440\n"
    "hierarchical_memory_limit 536870912\n"
    "hierarchical_memsw_limit 9223372036854771712\n"
    "total_cache 19410944\n"
    "total_rss 9289728\n";

TEST(ParseMemoryStatV1Test, ReadsHierarchicalLimits) {
  const auto stat = parseMemoryStatV1(kMemoryStat);

  ASSERT_TRUE(stat) << stat.error().message;
  EXPECT_EQ(stat->hierarchical_memory_limit, 536870912u);
  EXPECT_EQ(stat->hierarchical_memsw_limit, std::nullopt);
}

TEST(ParseMemoryStatV1Test, LeavesAbsentLimitsUnset) {
  struct Case {
    std::string name;
    std::string_view input;
    MemoryLimit memory;
    MemoryLimit memsw;
  };
  const std::vector<Case> cases = {
      {"empty", "", std::nullopt, std::nullopt},
      {"no swap accounting", "rss 1\nhierarchical_memory_limit 4096\n", 4096u, std::nullopt},
      {"only memsw", "hierarchical_memsw_limit 8192\n", std::nullopt, 8192u},
      {"other keys may be anything", "rss x\ngarbage\n\nhierarchical_memory_limit 1\n", 1u,
       std::nullopt},
      {"longer key is not ours", "hierarchical_memory_limit_x abc\n", std::nullopt, std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto stat = parseMemoryStatV1(c.input);

    ASSERT_TRUE(stat) << stat.error().message;
    EXPECT_EQ(stat->hierarchical_memory_limit, c.memory);
    EXPECT_EQ(stat->hierarchical_memsw_limit, c.memsw);
  }
}

TEST(ParseMemoryStatV1Test, RejectsNonNumericLimits) {
  const std::vector<RejectCase> cases = {
      {"memory limit word", "hierarchical_memory_limit max\n"},
      {"memsw limit missing", "hierarchical_memsw_limit\n"},
      {"memory limit negative", "hierarchical_memory_limit -1\n"},
      {"memory limit two values", "hierarchical_memory_limit 1 2\n"},
      {"memsw limit overflow", "hierarchical_memsw_limit 18446744073709551616\n"},
  };
  for (const RejectCase& c : cases) {
    SCOPED_TRACE(c.name);

    const auto stat = parseMemoryStatV1(c.input);

    ASSERT_FALSE(stat);
    EXPECT_EQ(stat.error().code, Errc::kParse);
  }
}

TEST(ParseMemoryStatV1Test, ErrorNamesTheKey) {
  const auto stat = parseMemoryStatV1("hierarchical_memory_limit max\n");

  ASSERT_FALSE(stat);
  EXPECT_EQ(stat.error().message,
            "memory.stat: hierarchical_memory_limit is not a number: "
            "'hierarchical_memory_limit max'");
}

}  // namespace
}  // namespace oomkit::core
