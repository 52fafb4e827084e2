#include "oomkit/core/scope.h"

#include <gtest/gtest.h>

namespace oomkit::core {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

MemcgLimits limits(const char* path, MemoryLimit memory, MemoryLimit swap = std::nullopt,
                   bool has_swap_file = true) {
  MemcgLimits l;
  l.path = path;
  l.memory = memory;
  l.swap = swap;
  l.has_swap_file = has_swap_file;
  return l;
}

TEST(TotalPagesTest, GlobalIsRamPlusSwapInPages) {
  MemInfo m;
  m.mem_total_kb = 24684092;
  m.swap_total_kb = 4096;

  EXPECT_EQ(globalTotalPages(m, 4), 6171023u + 1024u);
}

TEST(TotalPagesTest, MemcgAddsUsableSwapLikeMemCgroupGetMax) {
  struct Case {
    const char* name;
    MemcgLimits limits;
    CgroupVersion version;
    uint64_t total_swap_pages;
    uint64_t expected;
  };
  MemcgLimits no_swappiness = limits("/a", 512 * kMiB, 1024 * kMiB);
  no_swappiness.swappiness = 0;
  const Case cases[] = {
      {"v1 no swap on the machine", limits("/a", 512 * kMiB, std::nullopt), CgroupVersion::kV1, 0,
       131072},
      {"v1 memsw above limit", limits("/a", 512 * kMiB, 768 * kMiB), CgroupVersion::kV1, 1000000,
       131072 + 65536},
      {"v1 swap capped by the machine", limits("/a", 512 * kMiB, 768 * kMiB), CgroupVersion::kV1,
       100, 131072 + 100},
      {"v1 memsw unlimited", limits("/a", 512 * kMiB, std::nullopt), CgroupVersion::kV1, 5000,
       131072 + 5000},
      {"v1 without swap accounting", limits("/a", 512 * kMiB, std::nullopt, false),
       CgroupVersion::kV1, 5000, 131072},
      {"swappiness 0 ignores swap", no_swappiness, CgroupVersion::kV1, 1000000, 131072},
      {"v2 swap.max is swap only", limits("/a", 512 * kMiB, 256 * kMiB), CgroupVersion::kV2,
       1000000, 131072 + 65536},
      {"v2 swap.max 0", limits("/a", 512 * kMiB, 0), CgroupVersion::kV2, 1000000, 131072},
      {"zero limit is at least 1", limits("/a", 0, 0), CgroupVersion::kV2, 0, 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(memcgTotalPages(c.limits, c.version, c.total_swap_pages, 4), c.expected);
  }
}

TEST(ResolveScopeTest, OwnLimitBinds) {
  const std::vector<MemcgLimits> chain = {limits("/a/b", 100 * kMiB), limits("/a", 200 * kMiB),
                                          limits("/", std::nullopt)};

  auto scope = resolveMemcgScope(chain, CgroupVersion::kV1, 0, 4);

  ASSERT_TRUE(scope) << scope.error().message;
  EXPECT_EQ(scope->oom_path, "/a/b");
  EXPECT_EQ(scope->totalpages, 25600u);
  EXPECT_TRUE(scope->note.empty());
}

TEST(ResolveScopeTest, UnlimitedCgroupOomsAtTheAncestorWithTheSmallestLimit) {
  const std::vector<MemcgLimits> chain = {limits("/a/b/c", std::nullopt),
                                          limits("/a/b", 300 * kMiB), limits("/a", 200 * kMiB),
                                          limits("/", std::nullopt)};

  auto scope = resolveMemcgScope(chain, CgroupVersion::kV1, 0, 4);

  ASSERT_TRUE(scope) << scope.error().message;
  EXPECT_EQ(scope->requested_path, "/a/b/c");
  EXPECT_EQ(scope->oom_path, "/a");
  EXPECT_EQ(scope->limit_bytes, 200 * kMiB);
  EXPECT_NE(scope->note.find("/a"), std::string::npos);
}

TEST(ResolveScopeTest, EqualLimitsBindNearest) {
  const std::vector<MemcgLimits> chain = {limits("/a/b", 100 * kMiB), limits("/a", 100 * kMiB)};

  auto scope = resolveMemcgScope(chain, CgroupVersion::kV2, 0, 4);

  ASSERT_TRUE(scope);
  EXPECT_EQ(scope->oom_path, "/a/b");
}

TEST(ResolveScopeTest, V1WithoutHierarchyStopsAtTheCgroup) {
  MemcgLimits leaf = limits("/a/b", std::nullopt);
  leaf.use_hierarchy = false;
  const std::vector<MemcgLimits> chain = {leaf, limits("/a", 100 * kMiB)};

  auto scope = resolveMemcgScope(chain, CgroupVersion::kV1, 0, 4);

  ASSERT_FALSE(scope);
  EXPECT_EQ(scope.error().code, Errc::kNotFound);
}

TEST(ResolveScopeTest, NoLimitAnywhereIsNotFound) {
  const std::vector<MemcgLimits> chain = {limits("/x", std::nullopt), limits("/", std::nullopt)};

  auto scope = resolveMemcgScope(chain, CgroupVersion::kV1, 0, 4);

  ASSERT_FALSE(scope);
  EXPECT_EQ(scope.error().code, Errc::kNotFound);
  EXPECT_NE(scope.error().message.find("global OOM"), std::string::npos);
}

TEST(CgroupPathTest, UnderMeansSameOrBelow) {
  EXPECT_TRUE(isCgroupUnder("/a", "/a"));
  EXPECT_TRUE(isCgroupUnder("/a/b", "/a"));
  EXPECT_TRUE(isCgroupUnder("/a/b", "/"));
  EXPECT_FALSE(isCgroupUnder("/ab", "/a"));
  EXPECT_FALSE(isCgroupUnder("/", "/a"));
  EXPECT_FALSE(isCgroupUnder("", "/"));
}

}  // namespace
}  // namespace oomkit::core
