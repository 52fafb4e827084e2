// Victim selection against a real kernel memcg OOM: from the task table and the memcg limit
// printed in the kernel's own report, our selection must pick the process the kernel killed.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "oomkit/core/oom_report.h"
#include "oomkit/core/ranking.h"

namespace oomkit::core {
namespace {

struct Report {
  std::vector<Process> tasks;  // in the kernel's scan order (dump_tasks walks like selection)
  uint64_t limit_kb = 0;
  int32_t killed_pid = 0;
};

// The task table and memcg limit as the project's own report parser reads them, turned into
// the Process records selection works on (pages of 4 KiB, as on the machine it came from).
Report readReport(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const auto reports = parseOomReports(text.str());
  Report report;
  if (reports.size() != 1) return report;
  const OomReport& r = reports.front();
  report.limit_kb = r.memcg_limit_kb.value_or(0);
  report.killed_pid = r.victim ? r.victim->pid : 0;
  for (const OomTask& t : r.tasks) {
    Process p;
    p.pid = t.pid;
    p.uid = t.uid;
    p.has_mm = true;
    p.memory.rss_anon_kb = t.rss_anon_pages.value_or(0) * 4;
    p.memory.rss_file_kb = t.rss_file_pages.value_or(0) * 4;
    p.memory.rss_shmem_kb = t.rss_shmem_pages.value_or(0) * 4;
    p.memory.pgtables_kb = t.pgtables_bytes.value_or(0) / 1024;
    p.memory.swap_kb = t.swapents.value_or(0) * 4;
    p.oom_score_adj = t.oom_score_adj;
    p.comm = t.name;
    report.tasks.push_back(p);
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
