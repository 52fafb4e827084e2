// Victim selection against a real kernel memcg OOM: from the task table and the memcg limit
// printed in the kernel's own report, our selection must pick the process the kernel killed.
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "oomkit/core/ranking.h"

namespace oomkit::core {
namespace {

struct Report {
  std::vector<Process> tasks;  // in the kernel's scan order (dump_tasks walks like selection)
  uint64_t limit_kb = 0;
  int32_t killed_pid = 0;
};

// Just enough of the 6.8+ report for this test; the full parser is `oomkit parse`.
Report readReport(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  Report report;
  const std::regex task(
      R"(\[\s*(\d+)\]\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(-?\d+)\s+(.*))");
  const std::regex limit(R"(memory: usage \d+kB, limit (\d+)kB)");
  const std::regex killed(R"(Killed process (\d+))");
  std::string line;
  while (std::getline(text, line)) {
    std::smatch m;
    if (std::regex_search(line, m, task)) {
      Process p;
      p.pid = std::stoi(m[1]);
      p.uid = static_cast<uint32_t>(std::stoul(m[2]));
      p.has_mm = true;
      p.memory.rss_anon_kb = std::stoull(m[6]) * 4;
      p.memory.rss_file_kb = std::stoull(m[7]) * 4;
      p.memory.rss_shmem_kb = std::stoull(m[8]) * 4;
      p.memory.pgtables_kb = std::stoull(m[9]) / 1024;
      p.memory.swap_kb = std::stoull(m[10]) * 4;
      p.oom_score_adj = std::stoi(m[11]);
      p.comm = m[12];
      report.tasks.push_back(p);
    } else if (std::regex_search(line, m, limit)) {
      report.limit_kb = std::stoull(m[1]);
    } else if (std::regex_search(line, m, killed)) {
      report.killed_pid = std::stoi(m[1]);
    }
  }
  return report;
}

TEST(KernelSelectionFixtureTest, PicksTheProcessTheKernelKilledInAMemcgOom) {
  const Report report = readReport(std::string(OOMKIT_FIXTURES_DIR) +
                                   "/oom-logs/14-kernel-6.18-memcg-v1-dmesg-scored.log");
  ASSERT_EQ(report.tasks.size(), 12u);
  ASSERT_EQ(report.limit_kb, 4194304u);
  ASSERT_EQ(report.killed_pid, 13306);
  RankParams params;
  params.formula = Formula::kCurrent;
  params.scale = {report.limit_kb / 4, 4};  // no swap: mem_cgroup_get_max() is the limit
  params.global_totalpages = 6171023;

  const auto victim = selectVictim(report.tasks, params);
  const auto ranked = rankProcesses(report.tasks, params);

  ASSERT_TRUE(victim.has_value());
  EXPECT_EQ(report.tasks[*victim].pid, 13306);
  // The kernel went on to kill 13305 (adj 999), 13304 (adj 500), 13307 (adj 333) as the hog
  // kept allocating: our kill order predicts that sequence too.
  std::vector<int32_t> order;
  for (size_t i = 0; i < 4; ++i)
    order.push_back(report.tasks[ranked[i].index].pid);
  EXPECT_EQ(order, (std::vector<int32_t>{13306, 13305, 13304, 13307}));
}

}  // namespace
}  // namespace oomkit::core
