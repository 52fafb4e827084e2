#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "oomkit/core/procfs.h"
#include "oomkit/result.h"

namespace oomkit::core {
namespace {

// `cat /proc/meminfo` on 6.18 (a machine without swap).
constexpr std::string_view kCurrentKernel =
    "MemTotal:       24684084 kB\n"
    "MemFree:        22947476 kB\n"
    "MemAvailable:   23123264 kB\n"
    "Buffers:            1528 kB\n"
    "Cached:           369028 kB\n"
    "SwapCached:            0 kB\n"
    "Active:           144796 kB\n"
    "Inactive:        1358160 kB\n"
    "Active(anon):       1608 kB\n"
    "Inactive(anon):  1139664 kB\n"
    "Active(file):     143188 kB\n"
    "Inactive(file):   218496 kB\n"
    "Unevictable:       12620 kB\n"
    "Mlocked:           11700 kB\n"
    "SwapTotal:             0 kB\n"
    "SwapFree:              0 kB\n"
    "Zswap:                 0 kB\n"
    "Zswapped:              0 kB\n"
    "Dirty:             26312 kB\n"
    "Writeback:             0 kB\n"
    "AnonPages:       1145232 kB\n"
    "Mapped:            52092 kB\n"
    "Shmem:              8872 kB\n"
    "VmallocTotal:   34359738367 kB\n"
    "HugePages_Total:       0\n"
    "HugePages_Free:        0\n"
    "HugePages_Rsvd:        0\n"
    "HugePages_Surp:        0\n"
    "Hugepagesize:       2048 kB\n"
    "Hugetlb:               0 kB\n"
    "DirectMap4k:       30720 kB\n"
    "DirectMap2M:     2066432 kB\n"
    "DirectMap1G:    25165824 kB\n";

// 3.10 before MemAvailable (3.14), with swap.
constexpr std::string_view kKernel310 =
    "MemTotal:        1883496 kB\n"
    "MemFree:          141088 kB\n"
    "Buffers:            2136 kB\n"
    "Cached:           356344 kB\n"
    "SwapCached:         5320 kB\n"
    "SwapTotal:       2097148 kB\n"
    "SwapFree:        1962996 kB\n"
    "HugePages_Total:       0\n"
    "Hugepagesize:       2048 kB\n";

TEST(ParseMemInfoTest, ReadsCurrentKernelMeminfo) {
  const auto info = parseMemInfo(kCurrentKernel);

  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->mem_total_kb, 24684084u);
  EXPECT_EQ(info->mem_free_kb, 22947476u);
  EXPECT_EQ(info->mem_available_kb, 23123264u);
  EXPECT_EQ(info->swap_total_kb, 0u);
  EXPECT_EQ(info->swap_free_kb, 0u);
}

TEST(ParseMemInfoTest, Reads310MeminfoWithoutMemAvailable) {
  const auto info = parseMemInfo(kKernel310);

  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->mem_total_kb, 1883496u);
  EXPECT_EQ(info->mem_free_kb, 141088u);
  EXPECT_EQ(info->mem_available_kb, std::nullopt);
  EXPECT_EQ(info->swap_total_kb, 2097148u);
  EXPECT_EQ(info->swap_free_kb, 1962996u);
}

TEST(ParseMemInfoTest, DefaultsOptionalFieldsWhenOnlyMemTotalIsPresent) {
  const auto info = parseMemInfo("MemTotal:  1000 kB\n");

  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->mem_total_kb, 1000u);
  EXPECT_EQ(info->mem_free_kb, 0u);
  EXPECT_EQ(info->mem_available_kb, std::nullopt);
  EXPECT_EQ(info->swap_total_kb, 0u);
  EXPECT_EQ(info->swap_free_kb, 0u);
}

TEST(ParseMemInfoTest, IgnoresOtherKeysEvenWhenMalformed) {
  const auto info = parseMemInfo("Weird: x y z\nno colon\n\nMemTotal: 5 kB\nMemTotalX: abc\n");

  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->mem_total_kb, 5u);
}

TEST(ParseMemInfoTest, RejectsMissingMemTotalAndMalformedValues) {
  struct Case {
    std::string name;
    std::string_view input;
  };
  const std::vector<Case> cases = {
      {"empty", ""},
      {"no MemTotal", "MemFree: 5 kB\nSwapTotal: 0 kB\n"},
      {"MemTotal without unit", "MemTotal: 1000\n"},
      {"MemTotal not a number", "MemTotal: lots kB\n"},
      {"MemTotal empty", "MemTotal:\n"},
      {"MemTotal overflows", "MemTotal: 18446744073709551616 kB\n"},
      {"MemAvailable malformed", "MemTotal: 5 kB\nMemAvailable: -1 kB\n"},
      {"SwapFree malformed", "MemTotal: 5 kB\nSwapFree: 1 MB\n"},
      {"binary", "\xff\xfe:\x01"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto info = parseMemInfo(c.input);

    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().code, Errc::kParse);
  }
}

TEST(ParseMemInfoTest, ErrorNamesTheKey) {
  const auto info = parseMemInfo("MemTotal: 5 kB\nMemAvailable: -1 kB\n");

  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().message, "meminfo: MemAvailable: is not '<n> kB': '-1 kB'");
}

}  // namespace
}  // namespace oomkit::core
