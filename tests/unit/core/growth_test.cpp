// Tests for core::fastestGrower(): the kill_allocating_task stand-in.
#include "oomkit/core/growth.h"

#include <vector>

#include <gtest/gtest.h>

namespace oomkit::core {
namespace {

Process proc(int32_t pid, uint64_t start, uint64_t anon_kb, int32_t adj = 0) {
  Process p;
  p.pid = pid;
  p.start_time_ticks = start;
  p.comm = "p" + std::to_string(pid);
  p.has_mm = true;
  p.memory.rss_anon_kb = anon_kb;
  p.oom_score_adj = adj;
  return p;
}

TEST(GrowthTest, PicksTheLargestGrowthNotTheLargestProcess) {
  const std::vector<Process> before = {proc(10, 1, 900'000), proc(11, 2, 1000), proc(12, 3, 5000)};
  const std::vector<Process> after = {proc(10, 1, 950'000), proc(11, 2, 101'000),
                                      proc(12, 3, 5000)};
  const auto grower = fastestGrower(before, after, /*self_pid=*/99);
  ASSERT_TRUE(grower);
  EXPECT_EQ(grower->pid, 11);
  EXPECT_EQ(grower->start_time_ticks, 2u);
  EXPECT_EQ(grower->comm, "p11");
  EXPECT_EQ(grower->grew_bytes, 100'000u * 1024);
}

TEST(GrowthTest, CountsSwapAndPageTablesAsBadnessDoes) {
  Process grew_swap = proc(10, 1, 1000);
  grew_swap.memory.swap_kb = 300'000;
  Process grew_pte = proc(11, 2, 1000);
  grew_pte.memory.pgtables_kb = 200'000;
  const std::vector<Process> before = {proc(10, 1, 1000), proc(11, 2, 1000)};
  const std::vector<Process> after = {grew_swap, grew_pte};
  const auto grower = fastestGrower(before, after, 99);
  ASSERT_TRUE(grower);
  EXPECT_EQ(grower->pid, 10);
  EXPECT_EQ(grower->grew_bytes, 300'000u * 1024);
}

TEST(GrowthTest, AReusedPidIsANewProcessNotGrowth) {
  // Same pid, another start time: the old process exited and a new one took the pid.
  const std::vector<Process> before = {proc(10, 1, 1000), proc(11, 2, 1000)};
  const std::vector<Process> after = {proc(10, 7, 800'000), proc(11, 2, 2000)};
  const auto grower = fastestGrower(before, after, 99);
  ASSERT_TRUE(grower);
  EXPECT_EQ(grower->pid, 11);
}

TEST(GrowthTest, SkipsWhatTheKernelWouldNotKillAndOomkitItself) {
  Process kthread = proc(5, 1, 0);
  kthread.flags = 0x00200000;  // PF_KTHREAD
  Process kthread_after = kthread;
  kthread_after.memory.rss_anon_kb = 900'000;
  const std::vector<Process> before = {proc(1, 0, 1000), proc(20, 2, 1000, -1000), kthread,
                                       proc(30, 3, 1000)};
  const std::vector<Process> after = {proc(1, 0, 900'000), proc(20, 2, 900'000, -1000),
                                      kthread_after, proc(30, 3, 900'000)};
  EXPECT_FALSE(fastestGrower(before, after, /*self_pid=*/30));
  const auto grower = fastestGrower(before, after, 99);
  ASSERT_TRUE(grower);
  EXPECT_EQ(grower->pid, 30);
}

TEST(GrowthTest, NothingGrewMeansNoGrower) {
  const std::vector<Process> before = {proc(10, 1, 5000), proc(11, 2, 1000)};
  const std::vector<Process> after = {proc(10, 1, 4000), proc(11, 2, 1000), proc(12, 3, 90'000)};
  EXPECT_FALSE(fastestGrower(before, after, 99));  // 12 is new: no earlier sample to compare
}

}  // namespace
}  // namespace oomkit::core
