// How a report starts and ends besides "invoked oom-killer" ... "Killed process": SysRq f,
// no killable process, a panic, memory.oom.group kills; and comm names built to confuse.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "oomkit/core/oom_report.h"

#include "oom_report_test_support.h"

// Expected values name exactly the fields the kernel printed; the rest must stay empty.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace oomkit::core {
namespace {

using test::expectTask;
using test::expectVictim;
using test::rawLog;

const std::string kKilled42 =
    "Out of memory: Killed process 42 (hog) total-vm:1000kB, anon-rss:900kB, file-rss:0kB, "
    "shmem-rss:0kB, UID:0 pgtables:12kB oom_score_adj:0";

TEST(OomReportEndingsTest, SysrqLineBelongsToTheReportThatFollowsIt) {
  const std::string log = rawLog({
      "[  300.000001] sysrq: Manual OOM execution",
      "[  300.000100] kworker/1:0 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=-1, "
      "oom_score_adj=0",
      "[  300.000200] " + kKilled42,
  });

  const std::vector<OomReport> reports = parseOomReports(log);

  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].manual);
  EXPECT_EQ(reports[0].first_line, 1u);
  EXPECT_EQ(reports[0].timestamp, "300.000001");
  EXPECT_EQ(reports[0].trigger.order, -1);
  EXPECT_TRUE(reports[0].complete);
}

TEST(OomReportEndingsTest, OldSysrqLineMarksAManualOomEvenWithOrderZero) {
  // 2.6/3.x moom_callback() called out_of_memory() with order 0 and force_kill.
  const std::string log = rawLog({
      "SysRq : Manual OOM execution",
      "events/0 invoked oom-killer: gfp_mask=0xd0, order=0, oom_adj=0, oom_score_adj=0",
      kKilled42,
  });

  const std::vector<OomReport> reports = parseOomReports(log);

  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].manual);
  EXPECT_EQ(reports[0].trigger.order, 0);
}

TEST(OomReportEndingsTest, SysrqLineFarBeforeAReportDoesNotMakeItManual) {
  std::vector<std::string> lines = {"sysrq: Manual OOM execution",
                                    "sysrq: OOM request ignored. No task eligible"};
  for (int i = 0; i < 40; ++i)
    lines.push_back("eth0: link up");
  lines.push_back("a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0");
  lines.push_back(kKilled42);

  const std::vector<OomReport> reports = parseOomReports(rawLog(lines));

  ASSERT_EQ(reports.size(), 1u);
  EXPECT_FALSE(reports[0].manual);
  EXPECT_EQ(reports[0].first_line, 43u);
}

TEST(OomReportEndingsTest, SysrqLineDoesNotReachPastAnotherReport) {
  // Found by the fuzzer: the mark must not carry over a rate-limited kill in between.
  const std::string log = rawLog({
      "sysrq: Manual OOM execution",
      "Out of memory: Killed process 7 (x) total-vm:1kB, anon-rss:1kB, file-rss:0kB",
      "a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
      kKilled42,
  });

  const std::vector<OomReport> reports = parseOomReports(log);

  ASSERT_EQ(reports.size(), 2u);
  EXPECT_FALSE(reports[0].manual);
  EXPECT_FALSE(reports[1].manual);
  EXPECT_EQ(reports[1].first_line, 3u);
}

TEST(OomReportEndingsTest, NoKillableProcessIsAReportWithoutVictim) {
  const std::string log = rawLog({
      "sysrq: Manual OOM execution",
      "kworker/0:1 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=-1, oom_score_adj=0",
      "CPU: 0 PID: 33 Comm: kworker/0:1 Not tainted 6.1.0 #1",
      "Out of memory and no killable processes...",
      "sysrq: OOM request ignored. No task eligible",
  });

  const std::vector<OomReport> reports = parseOomReports(log);

  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].no_killable);
  EXPECT_FALSE(reports[0].complete);
  EXPECT_FALSE(reports[0].victim);
  EXPECT_TRUE(reports[0].manual);
  EXPECT_EQ(reports[0].last_line, 4u);
}

TEST(OomReportEndingsTest, NoKillableProcessThenPanicEndsTheReport) {
  const std::string log = rawLog({
      "init invoked oom-killer: gfp_mask=0x201da, order=0, oom_score_adj=0",
      "Out of memory and no killable processes...",
      "Kernel panic - not syncing: System is deadlocked on memory",
      "CPU: 0 PID: 1 Comm: init Not tainted 5.10.0 #1",
  });

  const std::vector<OomReport> reports = parseOomReports(log);

  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].no_killable);
  EXPECT_EQ(reports[0].panic, "System is deadlocked on memory");
  EXPECT_EQ(reports[0].last_line, 3u);
  EXPECT_EQ(reports[0].trigger.pid, std::nullopt);  // the panic's own stack dump is not ours
}

TEST(OomReportEndingsTest, PanicOnOomEndsAReportWithoutVictim) {
  const std::string log = rawLog({
      "a invoked oom-killer: gfp_mask=0x201da, order=0, oom_score_adj=0",
      "Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled",
  });

  const std::vector<OomReport> reports = parseOomReports(log);

  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].panic, "Out of memory: system-wide panic_on_oom is enabled");
  EXPECT_FALSE(reports[0].no_killable);
  EXPECT_FALSE(reports[0].complete);
}

TEST(OomReportEndingsTest, Kernel310PanicWithNoKillableText) {
  const std::string log = rawLog({
      "a invoked oom-killer: gfp_mask=0x201da, order=0, oom_score_adj=0",
      "Kernel panic - not syncing: Out of memory and no killable processes...",
  });

  const std::vector<OomReport> reports = parseOomReports(log);

  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].no_killable);
}

TEST(OomReportEndingsTest, OomGroupKillsAreCollectedInTheSameReport) {
  const std::string log = rawLog({
      "worker invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
      "Memory cgroup out of memory: Killed process 600 (worker) total-vm:100kB, anon-rss:90kB, "
      "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
      "Tasks in /job.slice/job-1 are going to be killed due to memory.oom.group set",
      "Memory cgroup out of memory: Killed process 601 (helper) total-vm:50kB, anon-rss:40kB, "
      "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
      "Memory cgroup out of memory: Killed process 602 (helper 2) total-vm:60kB, anon-rss:45kB, "
      "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:100",
      "oom_reaper: reaped process 600 (worker), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
  });

  const std::vector<OomReport> reports = parseOomReports(log);

  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].oom_group, "/job.slice/job-1");
  ASSERT_EQ(reports[0].group_killed.size(), 2u);
  EXPECT_EQ(reports[0].group_killed[0].pid, 601);
  EXPECT_EQ(reports[0].group_killed[1].comm, "helper 2");
  EXPECT_EQ(reports[0].group_killed[1].oom_score_adj, 100);
  ASSERT_TRUE(reports[0].victim);
  EXPECT_EQ(reports[0].victim->pid, 600);
  EXPECT_TRUE(reports[0].reaped);
  EXPECT_EQ(reports[0].last_line, 6u);
}

TEST(OomReportEndingsTest, SecondKillWithoutOomGroupIsAReportOfItsOwn) {
  const std::string log = rawLog({
      "a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
      kKilled42,
      "Out of memory: Killed process 43 (hog2) total-vm:1kB, anon-rss:1kB, file-rss:0kB, "
      "shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
  });

  const std::vector<OomReport> reports = parseOomReports(log);

  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1].victim->pid, 43);
  EXPECT_EQ(reports[1].trigger.comm, "");
  EXPECT_EQ(reports[1].first_line, 3u);
}

TEST(OomReportEndingsTest, HostileCommNamesInEveryLine) {
  const std::string log = rawLog({
      "a (b) invoked oom-killer: x invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, "
      "oom_score_adj=0",
      "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name",
      "[     42]     0    42     1000      900    12288        0             0 x) score 5 (y",
      "[     43]     0    43     1000      900    12288        0             0  lead blank",
      "[     44]     0    44     1000      900    12288        0             0 ",
      "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
      "task_memcg=/,task=a) total-vm:1kB (b,pid=42,uid=0",
      "Out of memory: Killed process 42 (a) total-vm:1kB (b) total-vm:1000kB, anon-rss:900kB, "
      "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:12kB oom_score_adj:0",
      "oom_reaper: reaped process 42 (a), now x (b), now anon-rss:0kB, file-rss:0kB, "
      "shmem-rss:0kB",
  });

  const std::vector<OomReport> reports = parseOomReports(log);

  ASSERT_EQ(reports.size(), 1u);
  const OomReport& r = reports[0];
  EXPECT_EQ(r.trigger.comm, "a (b) invoked oom-killer: x");
  EXPECT_EQ(r.trigger.gfp_mask, "0xcc0");
  ASSERT_EQ(r.tasks.size(), 3u);
  EXPECT_EQ(r.tasks[0].name, "x) score 5 (y");
  EXPECT_EQ(r.tasks[1].name, " lead blank");
  EXPECT_EQ(r.tasks[2].name, "");
  expectVictim(r.victim, {.pid = 42,
                          .comm = "a) total-vm:1kB (b",
                          .total_vm_kb = 1000,
                          .anon_rss_kb = 900,
                          .file_rss_kb = 0,
                          .shmem_rss_kb = 0,
                          .uid = 0,
                          .pgtables_kb = 12,
                          .oom_score_adj = 0});
  ASSERT_TRUE(r.reaped);
  EXPECT_EQ(r.reaped->comm, "a), now x (b");
  EXPECT_EQ(r.reaped->anon_rss_kb, 0u);
}

TEST(OomReportEndingsTest, HostileCommInTheKillDecision) {
  const std::string log = rawLog({
      "a invoked oom-killer: gfp_mask=0x201da, order=0, oom_score_adj=0",
      "Out of memory: Kill process 7 (p) score 1 (q) score 650 or sacrifice child",
      "Killed process 7 (p) score 1 (q) total-vm:10kB, anon-rss:5kB, file-rss:0kB",
  });

  const std::vector<OomReport> reports = parseOomReports(log);

  ASSERT_EQ(reports.size(), 1u);
  expectVictim(reports[0].victim, {.pid = 7,
                                   .comm = "p) score 1 (q",
                                   .total_vm_kb = 10,
                                   .anon_rss_kb = 5,
                                   .file_rss_kb = 0,
                                   .score = 650});
}

TEST(OomReportEndingsTest, MalformedRowsAndLinesAreSkippedNotGuessed) {
  const std::string log = rawLog({
      "a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=zero, oom_score_adj=many",
      "CPU: x PID: y Comm: a",
      "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name",
      "[     10]     0    10     1000      900",
      "[     11]     0    11     1000     -900    12288        0             0 negative rss",
      "[     12]     0    12     1000      900    12288        0         99999999999 big adj",
      "[     13]    -1    13     1000      900    12288        0             0 uid minus one",
      "Out of memory: Killed process x (a) total-vm:1kB",
      "Out of memory: Killed process 5 (a) total-vm:lots, anon-rss:9kB",
  });

  const std::vector<OomReport> reports = parseOomReports(log);

  ASSERT_EQ(reports.size(), 1u);
  const OomReport& r = reports[0];
  EXPECT_EQ(r.trigger.order, 0);
  EXPECT_EQ(r.trigger.oom_score_adj, std::nullopt);
  EXPECT_EQ(r.trigger.pid, std::nullopt);
  ASSERT_EQ(r.tasks.size(), 1u);
  expectTask(r.tasks[0], {.pid = 13,
                          .uid = 4294967295u,
                          .tgid = 13,
                          .total_vm_pages = 1000,
                          .rss_pages = 900,
                          .pgtables_bytes = 12288,
                          .swapents = 0,
                          .oom_score_adj = 0,
                          .name = "uid minus one"});
  expectVictim(r.victim, {.pid = 5, .comm = "a", .anon_rss_kb = 9});
}

}  // namespace
}  // namespace oomkit::core
