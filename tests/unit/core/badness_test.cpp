#include "oomkit/core/badness.h"

#include <gtest/gtest.h>

#include "oomkit/core/procfs.h"

namespace oomkit::core {
namespace {

// totalpages of the machine the worked examples were measured on (24684092 kB, no swap).
constexpr uint64_t kTotal = 6171023;
constexpr uint64_t kCapSysAdminBit = uint64_t{1} << kCapSysAdmin;

Process makeProcess(uint64_t anon_kb, uint64_t file_kb, uint64_t shmem_kb, uint64_t pte_kb,
                    int32_t adj) {
  Process p;
  p.pid = 1000;
  p.has_mm = true;
  p.memory.rss_anon_kb = anon_kb;
  p.memory.rss_file_kb = file_kb;
  p.memory.rss_shmem_kb = shmem_kb;
  p.memory.pgtables_kb = pte_kb;
  p.oom_score_adj = adj;
  return p;
}

// Measured on kernel 6.18: /proc/PID/status inputs and the kernel's own oom_score
// (reference/machine-facts.md §2d).
TEST(BadnessTest, CurrentFormulaReproducesMeasuredKernelScores) {
  struct Case {
    const char* name;
    uint64_t anon_kb, file_kb, shmem_kb, pte_kb;
    int32_t adj;
    int64_t badness;
    int64_t oom_score;
  };
  const Case cases[] = {
      {"anon 900M", 921808, 3184, 0, 1852, 0, 231711, 691},
      {"adj 500", 205008, 3184, 0, 452, 500, 3137661, 1005},
      {"adj 1000", 5332, 3188, 0, 60, 1000, 6173145, 1333},
      {"mixed adj 333", 307408, 126044, 102400, 936, 333, 2189140, 902},
      {"shmem", 208, 3184, 409600, 848, 0, 103460, 677},
      {"adj 1", 1232, 3160, 0, 52, 1, 7282, 667},
      {"bash", 1176, 3156, 0, 56, 0, 1097, 666},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Process p = makeProcess(c.anon_kb, c.file_kb, c.shmem_kb, c.pte_kb, c.adj);

    const Badness b = computeBadness(p, {kTotal, 4}, Formula::kCurrent);

    ASSERT_TRUE(b.eligible());
    EXPECT_EQ(b.points, c.badness);
    EXPECT_EQ(oomScore(b, kTotal, Formula::kCurrent), c.oom_score);
  }
}

TEST(BadnessTest, NegativeAdjTruncatesTowardZeroLikeC) {
  // 1 GiB anon at adj -500: 262144 - 500 * 6171 = -2823356; * 1000 / total = -457.
  const Process p = makeProcess(1048576, 0, 0, 0, -500);

  const Badness b = computeBadness(p, {kTotal, 4}, Formula::kCurrent);

  EXPECT_EQ(b.points, -2823356);
  EXPECT_EQ(oomScore(b, kTotal, Formula::kCurrent), 362);
}

TEST(BadnessTest, AdjUnitDividesTotalpagesBeforeMultiplying) {
  // 1999 / 1000 = 1 page per adj unit, not 1.999.
  const Process p = makeProcess(0, 0, 0, 0, 1000);

  const Badness b = computeBadness(p, {1999, 4}, Formula::kCurrent);

  EXPECT_EQ(b.terms.adj_unit_pages, 1);
  EXPECT_EQ(b.points, 1000);
}

TEST(BadnessTest, IneligibleProcessesScoreZeroInEveryFormula) {
  struct Case {
    const char* name;
    Process process;
    Eligibility expected;
  };
  Process init = makeProcess(4000, 0, 0, 40, 0);
  init.pid = 1;
  Process kthread = makeProcess(0, 0, 0, 0, 0);
  kthread.flags = kPfKthread;
  Process zombie = makeProcess(0, 0, 0, 0, 0);
  zombie.has_mm = false;
  zombie.state = 'Z';
  const Process protected_process = makeProcess(900000, 0, 0, 1000, kOomScoreAdjMin);
  const Case cases[] = {
      {"init", init, Eligibility::kGlobalInit},
      {"kernel thread", kthread, Eligibility::kKernelThread},
      {"zombie", zombie, Eligibility::kNoMemory},
      {"adj -1000", protected_process, Eligibility::kAdjMin},
  };
  for (const Case& c : cases) {
    for (Formula f : {Formula::kCurrent, Formula::kV4_17, Formula::kV3_14, Formula::kV3_10}) {
      SCOPED_TRACE(std::string(c.name) + " / " + std::string(formulaName(f)));

      const Badness b = computeBadness(c.process, {kTotal, 4}, f);

      EXPECT_EQ(b.eligibility, c.expected);
      EXPECT_EQ(oomScore(b, kTotal, f), 0);
    }
  }
}

TEST(BadnessTest, PreFiveNineFormulasClampToOneAndScaleTo1000) {
  // 40000 pages at adj -100 on 1,000,000 pages: 40000 - 100000 < 0 → clamped to 1.
  const Process small = makeProcess(160000, 0, 0, 0, -100);
  const Process big = makeProcess(1600000, 0, 0, 400, 0);  // 400000 + 100 pages

  const Badness clamped = computeBadness(small, {1000000, 4}, Formula::kV4_17);
  const Badness plain = computeBadness(big, {1000000, 4}, Formula::kV4_17);

  EXPECT_EQ(clamped.points, 1);
  EXPECT_EQ(oomScore(clamped, 1000000, Formula::kV4_17), 0);  // 1 * 1000 / 1000000
  EXPECT_EQ(plain.points, 400100);
  EXPECT_EQ(oomScore(plain, 1000000, Formula::kV4_17), 400);
  EXPECT_EQ(computeBadness(small, {1000000, 4}, Formula::kCurrent).points, -60000);
}

TEST(BadnessTest, RootBonusOf314IsThreePercentOfOwnUsage) {
  Process root = makeProcess(40000, 0, 0, 0, 0);  // 10000 pages
  root.cap_eff = kCapSysAdminBit;
  const Process user = makeProcess(40000, 0, 0, 0, 0);

  const Badness root_b = computeBadness(root, {1000000, 4}, Formula::kV3_14);

  EXPECT_EQ(root_b.terms.root_bonus_pages, 300);
  EXPECT_EQ(root_b.points, 9700);
  EXPECT_EQ(computeBadness(user, {1000000, 4}, Formula::kV3_14).points, 10000);
  EXPECT_EQ(computeBadness(root, {1000000, 4}, Formula::kV4_17).points, 10000);  // gone in 4.17
}

TEST(BadnessTest, RootBonusOf310Is30PerMilleOfTotalpages) {
  Process root = makeProcess(200000, 0, 0, 0, 0);  // 50000 pages
  root.cap_eff = kCapSysAdminBit;
  Process small_root = makeProcess(4000, 0, 0, 0, 0);  // 1000 pages
  small_root.cap_eff = kCapSysAdminBit;

  const Badness b = computeBadness(root, {1000000, 4}, Formula::kV3_10);

  EXPECT_EQ(b.terms.adj, -30);
  EXPECT_EQ(b.points, 50000 - 30 * 1000);
  EXPECT_EQ(computeBadness(small_root, {1000000, 4}, Formula::kV3_10).points, 1);  // minimum 1
}

TEST(BadnessTest, PagesFollowThePageSize) {
  const Process p = makeProcess(640, 0, 0, 64, 0);  // 64 KiB pages: 10 + 1

  EXPECT_EQ(computeBadness(p, {100000, 64}, Formula::kCurrent).points, 11);
}

TEST(BadnessTest, SwapAndPageTablesCount) {
  Process p = makeProcess(4096, 0, 0, 40, 0);
  p.memory.swap_kb = 8192;

  const Badness b = computeBadness(p, {kTotal, 4}, Formula::kCurrent);

  EXPECT_EQ(b.terms.rss_pages, 1024);
  EXPECT_EQ(b.terms.swap_pages, 2048);
  EXPECT_EQ(b.terms.pgtables_pages, 10);
  EXPECT_EQ(b.points, 3082);
}

TEST(FormulaTest, KernelReleasesMapToTheirFormula) {
  struct Case {
    const char* release;
    std::optional<Formula> expected;
  };
  const Case cases[] = {
      {"6.18.44-fc-v669", Formula::kCurrent},
      {"5.9.0", Formula::kCurrent},
      {"5.8.18-100.fc31.x86_64", Formula::kV4_17},
      {"4.17.0", Formula::kV4_17},
      {"4.16.9", Formula::kV3_14},
      {"3.14.0", Formula::kV3_14},
      {"3.10.0-514.6.1.el7.x86_64", Formula::kV3_10},
      {"3.13", Formula::kV3_10},
      {"2.6.32-754.el6.x86_64", std::nullopt},
      {"garbage", std::nullopt},
      {"", std::nullopt},
      {"6.", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.release);
    EXPECT_EQ(formulaForRelease(c.release), c.expected);
  }
}

TEST(FormulaTest, NamesRoundTrip) {
  for (Formula f : {Formula::kCurrent, Formula::kV4_17, Formula::kV3_14, Formula::kV3_10}) {
    EXPECT_EQ(parseFormula(formulaName(f)), f);
  }
  EXPECT_EQ(parseFormula("5.9"), Formula::kCurrent);
  EXPECT_EQ(parseFormula("2.6"), std::nullopt);
}

}  // namespace
}  // namespace oomkit::core
