#include "oomkit/core/ranking.h"

#include <random>

#include <gtest/gtest.h>

namespace oomkit::core {
namespace {

Process sized(int32_t pid, uint64_t rss_kb, int32_t adj = 0, uint64_t start = 0) {
  Process p;
  p.pid = pid;
  p.has_mm = true;
  p.start_time_ticks = start;
  p.memory.rss_anon_kb = rss_kb;
  p.oom_score_adj = adj;
  return p;
}

RankParams params(Formula formula, uint64_t totalpages = 100000) {
  RankParams rp;
  rp.formula = formula;
  rp.scale = {totalpages, 4};
  rp.global_totalpages = totalpages;
  return rp;
}

std::vector<int32_t> rankedPids(std::span<const Process> processes, const RankParams& rp) {
  std::vector<int32_t> pids;
  for (const auto& entry : rankProcesses(processes, rp))
    pids.push_back(processes[entry.index].pid);
  return pids;
}

TEST(RankingTest, HighestBadnessFirstIneligibleLast) {
  Process init = sized(1, 90000);
  const std::vector<Process> processes = {init, sized(10, 400), sized(11, 4000),
                                          sized(12, 40, 1000)};

  const auto ranked = rankProcesses(processes, params(Formula::kCurrent));

  EXPECT_EQ(rankedPids(processes, params(Formula::kCurrent)),
            (std::vector<int32_t>{12, 11, 10, 1}));
  EXPECT_EQ(ranked[0].rank, 1u);
  EXPECT_EQ(ranked[2].rank, 3u);
  EXPECT_EQ(ranked[3].rank, 0u);  // init is never chosen
}

TEST(RankingTest, CurrentKernelLetsTheLaterTaskWinTies) {
  // oom_evaluate_task() skips only `points < chosen_points`: equal points replace.
  const std::vector<Process> processes = {sized(20, 4000), sized(21, 4000), sized(22, 4000)};

  EXPECT_EQ(selectVictim(processes, params(Formula::kCurrent)), 2u);
  EXPECT_EQ(rankedPids(processes, params(Formula::kCurrent)), (std::vector<int32_t>{22, 21, 20}));
}

TEST(RankingTest, OldKernelsKeepTheFirstTaskOnTies) {
  const std::vector<Process> processes = {sized(20, 4000), sized(21, 4000), sized(22, 4000)};

  EXPECT_EQ(selectVictim(processes, params(Formula::kV3_10)), 0u);
  EXPECT_EQ(rankedPids(processes, params(Formula::kV3_14)), (std::vector<int32_t>{20, 21, 22}));
}

TEST(RankingTest, NothingEligibleMeansNoVictim) {
  Process kthread = sized(2, 0);
  kthread.flags = kPfKthread;
  const std::vector<Process> processes = {sized(1, 500), kthread, sized(30, 900, kOomScoreAdjMin)};

  EXPECT_EQ(selectVictim(processes, params(Formula::kCurrent)), std::nullopt);
}

TEST(RankingTest, SelectVictimAgreesWithRankingOnRandomSets) {
  std::mt19937 rng(42);  // fixed seed: reproducible
  std::uniform_int_distribution<uint64_t> kb(0, 64);
  std::uniform_int_distribution<int32_t> adj(-1000, 1000);
  for (int round = 0; round < 500; ++round) {
    std::vector<Process> processes;
    for (int32_t pid = 2; pid < 12; ++pid) {
      // Few distinct sizes so that ties are common.
      processes.push_back(sized(pid, kb(rng) * 4, round % 3 == 0 ? adj(rng) : 0));
    }
    for (Formula f : {Formula::kCurrent, Formula::kV4_17, Formula::kV3_14, Formula::kV3_10}) {
      const auto ranked = rankProcesses(processes, params(f, 10000));
      const auto victim = selectVictim(processes, params(f, 10000));
      ASSERT_TRUE(victim.has_value());
      ASSERT_EQ(ranked.front().index, *victim) << "round " << round << " " << formulaName(f);
    }
  }
}

TEST(RankingTest, OomScoreIsAlwaysGlobalEvenInACgroupScope) {
  RankParams rp = params(Formula::kCurrent, 1000);  // a small memcg
  rp.global_totalpages = 1000000;
  const std::vector<Process> processes = {sized(40, 400000)};  // 100000 pages

  const auto ranked = rankProcesses(processes, rp);

  EXPECT_EQ(ranked[0].badness.points, 100000);
  EXPECT_EQ(ranked[0].oom_score, (1000 + 100) * 2 / 3);
}

TEST(WalkOrderTest, GlobalWalkIsForkOrder) {
  std::vector<Process> processes = {sized(300, 1, 0, 50), sized(20, 1, 0, 90), sized(7, 1, 0, 50),
                                    sized(5, 1, 0, 10)};

  sortInWalkOrder(processes);

  std::vector<int32_t> pids;
  for (const auto& p : processes)
    pids.push_back(p.pid);
  EXPECT_EQ(pids, (std::vector<int32_t>{5, 7, 300, 20}));
}

TEST(WalkOrderTest, MemcgWalkVisitsCgroupsInPreorder) {
  auto in = [](Process p, const char* cg) {
    p.memcg_path = cg;
    return p;
  };
  std::vector<Process> processes = {in(sized(10, 1, 0, 1), "/a/y"), in(sized(11, 1, 0, 2), "/a"),
                                    in(sized(12, 1, 0, 3), "/a/x"), in(sized(13, 1, 0, 0), "/a/x")};
  const std::vector<std::string> preorder = {"/a", "/a/x", "/a/y"};

  sortInWalkOrder(processes, preorder);

  std::vector<int32_t> pids;
  for (const auto& p : processes)
    pids.push_back(p.pid);
  EXPECT_EQ(pids, (std::vector<int32_t>{11, 13, 12, 10}));
}

TEST(ProtectionTest, HighestAdjBelowFindsTheBoundary) {
  // totalpages 100000 → 100 pages per adj unit. Process: 1000 pages. Rival: 5000 pages.
  const Process p = sized(50, 4000, 100);
  const RankParams rp = params(Formula::kCurrent);

  // 1000 + adj * 100 <= 5000 → adj <= 40 when the rival wins ties; < 5000 → adj <= 39.
  EXPECT_EQ(highestAdjBelow(p, 5000, false, rp), 40);
  EXPECT_EQ(highestAdjBelow(p, 5000, true, rp), 39);
  // A rival far below: even -999 is not enough.
  EXPECT_EQ(highestAdjBelow(sized(51, 400000), -200000, true, rp), std::nullopt);
  // A rival far above: any adj keeps it behind.
  EXPECT_EQ(highestAdjBelow(p, 1000000, true, rp), kOomScoreAdjMax);
}

}  // namespace
}  // namespace oomkit::core

namespace oomkit::core {
namespace {

TEST(TopCandidatesTest, ReturnsEveryProcessTiedForTheTop) {
  const std::vector<Process> processes = {sized(60, 800), sized(61, 4000), sized(62, 400),
                                          sized(63, 4000)};

  EXPECT_EQ(topCandidates(processes, params(Formula::kCurrent)), (std::vector<size_t>{1, 3}));
  EXPECT_TRUE(topCandidates({}, params(Formula::kCurrent)).empty());
}

}  // namespace
}  // namespace oomkit::core

namespace oomkit::core {
namespace {

TEST(TiedProcessesTest, ListsOnlyEligibleProcessesSharingABadness) {
  Process kthread = sized(2, 0);
  kthread.flags = kPfKthread;
  Process kthread2 = kthread;
  kthread2.pid = 3;
  const std::vector<Process> processes = {sized(70, 800), kthread,        sized(71, 4000),
                                          kthread2,       sized(72, 800), sized(73, 400)};

  EXPECT_EQ(tiedProcesses(processes, params(Formula::kCurrent)), (std::vector<size_t>{0, 4}));
}

}  // namespace
}  // namespace oomkit::core
