// Report formats no real fixture covers, one kernel era each, written from the printk formats
// of reference/kernel-oom-facts.md §2.7–2.8 (2.6.2x oomkilladj to 4.18 pgtables_bytes).
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

OomReport parseOne(const std::string& log) {
  std::vector<OomReport> reports = parseOomReports(log);
  EXPECT_EQ(reports.size(), 1u);
  return reports.empty() ? OomReport{} : std::move(reports[0]);
}

TEST(OomReportVersionsTest, Kernel26WithOomkilladjAndAKilledLineWithoutSizes) {
  const std::string log = rawLog({
      "Xorg invoked oom-killer: gfp_mask=0x201d2, order=0, oomkilladj=0",
      "Pid: 2743, comm: Xorg Not tainted 2.6.27-7-generic #1",
      "Call Trace:",
      " [<c0143f2d>] oom_kill_process+0x5d/0x1f0",
      "[ pid ]   uid  tgid total_vm      rss cpu oom_adj name",
      "[    1]     0     1      668       64   0       0 init",
      "[ 3001]  1000  3001   250000   200000   1      15 firefox bin",
      "Out of memory: kill process 3001 (firefox bin) score 1250000 or a child",
      "Killed process 3001 (firefox bin)",
  });

  const OomReport r = parseOne(log);

  EXPECT_EQ(r.trigger.comm, "Xorg");
  EXPECT_EQ(r.trigger.gfp_mask, "0x201d2");
  EXPECT_TRUE(r.trigger.gfp_flags.empty());
  EXPECT_EQ(r.trigger.oomkilladj, 0);
  EXPECT_EQ(r.trigger.oom_score_adj, std::nullopt);
  EXPECT_EQ(r.trigger.pid, 2743);
  EXPECT_EQ(r.kernel_version, "2.6.27-7-generic");
  ASSERT_EQ(r.tasks.size(), 2u);
  expectTask(r.tasks[1], {.pid = 3001,
                          .uid = 1000,
                          .tgid = 3001,
                          .total_vm_pages = 250000,
                          .rss_pages = 200000,
                          .cpu = 1,
                          .oom_adj = 15,
                          .oom_score_adj = 15,
                          .name = "firefox bin"});
  expectVictim(r.victim, {.pid = 3001, .comm = "firefox bin", .score = 1250000});
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.last_line, 9u);
}

TEST(OomReportVersionsTest, Rhel6WithUidBeforeTheCommAndOomAdjColumns) {
  const std::string log = rawLog({
      "httpd invoked oom-killer: gfp_mask=0x201da, order=0, oom_adj=0, oom_score_adj=0",
      "httpd cpuset=/ mems_allowed=0",
      "Pid: 4321, comm: httpd Not tainted 2.6.32-431.el6.x86_64 #1",
      "[ pid ]   uid  tgid total_vm      rss cpu oom_adj oom_score_adj name",
      "[  512]     0   512     2794      164   1     -17         -1000 udevd",
      "[ 4321]    48  4321   301526   260301   3       0             0 httpd",
      "Out of memory: Kill process 4321 (httpd) score 912 or sacrifice child",
      "Killed process 4321, UID 48, (httpd) total-vm:1206104kB, anon-rss:1040000kB, "
      "file-rss:1204kB",
  });

  const OomReport r = parseOne(log);

  EXPECT_EQ(r.trigger.oom_adj, 0);
  EXPECT_EQ(r.trigger.oom_score_adj, 0);
  EXPECT_EQ(r.cpuset, "/");
  EXPECT_EQ(r.mems_allowed, "0");
  EXPECT_EQ(r.kernel_version, "2.6.32-431.el6.x86_64");
  ASSERT_EQ(r.tasks.size(), 2u);
  expectTask(r.tasks[0], {.pid = 512,
                          .uid = 0,
                          .tgid = 512,
                          .total_vm_pages = 2794,
                          .rss_pages = 164,
                          .cpu = 1,
                          .oom_adj = -17,
                          .oom_score_adj = -1000,
                          .name = "udevd"});
  expectVictim(r.victim, {.pid = 4321,
                          .comm = "httpd",
                          .total_vm_kb = 1206104,
                          .anon_rss_kb = 1040000,
                          .file_rss_kb = 1204,
                          .uid = 48,
                          .score = 912});
  EXPECT_FALSE(r.memcg);
}

TEST(OomReportVersionsTest, Kernel32WithTaintFlagsAndCpuOomAdjTable) {
  const std::string log = rawLog({
      "[ 1234.567890] java invoked oom-killer: gfp_mask=0x280da, order=0, oom_adj=0, "
      "oom_score_adj=0",
      "[ 1234.567899] Pid: 2222, comm: java Tainted: G           O 3.2.0-126-generic "
      "#169-Ubuntu",
      "[ 1234.567950] [ pid ]   uid  tgid total_vm      rss cpu oom_adj oom_score_adj name",
      "[ 1234.567970] [ 2222]   106  2222   912345   456789   1       0             0 java",
      "[ 1234.568000] Out of memory: Kill process 2222 (java) score 901 or sacrifice child",
      "[ 1234.568010] Killed process 2222 (java) total-vm:3649380kB, anon-rss:1827156kB, "
      "file-rss:0kB",
  });

  const OomReport r = parseOne(log);

  EXPECT_EQ(r.timestamp, "1234.567890");
  EXPECT_EQ(r.kernel_version, "3.2.0-126-generic");
  EXPECT_EQ(r.trigger.pid, 2222);
  ASSERT_EQ(r.tasks.size(), 1u);
  expectTask(r.tasks[0], {.pid = 2222,
                          .uid = 106,
                          .tgid = 2222,
                          .total_vm_pages = 912345,
                          .rss_pages = 456789,
                          .cpu = 1,
                          .oom_adj = 0,
                          .oom_score_adj = 0,
                          .name = "java"});
  expectVictim(r.victim, {.pid = 2222,
                          .comm = "java",
                          .total_vm_kb = 3649380,
                          .anon_rss_kb = 1827156,
                          .file_rss_kb = 0,
                          .score = 901});
}

TEST(OomReportVersionsTest, Kernel310NrPtesTableAndASacrificedChild) {
  const std::string log = rawLog({
      "Jan  5 10:00:00 db1 kernel: postgres invoked oom-killer: gfp_mask=0x201da, order=0, "
      "oom_score_adj=0",
      "Jan  5 10:00:00 db1 kernel: CPU: 1 PID: 5000 Comm: postgres Not tainted "
      "3.10.0-1160.el7.x86_64 #1",
      "Jan  5 10:00:00 db1 kernel: [ pid ]   uid  tgid total_vm      rss nr_ptes swapents "
      "oom_score_adj name",
      "Jan  5 10:00:00 db1 kernel: [ 5000]    26  5000   100000    50000     150        0"
      "             0 postgres",
      "Jan  5 10:00:00 db1 kernel: [ 5001]    26  5001    90000    45000     140       10"
      "          -500 postgres",
      "Jan  5 10:00:00 db1 kernel: Out of memory: Kill process 5000 (postgres) score 500 or "
      "sacrifice child",
      "Jan  5 10:00:00 db1 kernel: Killed process 5001 (postgres) total-vm:360000kB, "
      "anon-rss:180000kB, file-rss:0kB, shmem-rss:0kB",
      "Jan  5 10:00:00 db1 kernel: Kill process 5002 (postgres) sharing same memory",
  });

  const OomReport r = parseOne(log);

  EXPECT_EQ(r.host, "db1");
  EXPECT_EQ(r.timestamp, "Jan  5 10:00:00");
  ASSERT_EQ(r.tasks.size(), 2u);
  expectTask(r.tasks[1], {.pid = 5001,
                          .uid = 26,
                          .tgid = 5001,
                          .total_vm_pages = 90000,
                          .rss_pages = 45000,
                          .nr_ptes = 140,
                          .swapents = 10,
                          .oom_score_adj = -500,
                          .name = "postgres"});
  // The score was the parent's; the child the kernel killed instead has none.
  expectVictim(r.victim, {.pid = 5001,
                          .comm = "postgres",
                          .total_vm_kb = 360000,
                          .anon_rss_kb = 180000,
                          .file_rss_kb = 0,
                          .shmem_rss_kb = 0});
  EXPECT_EQ(r.last_line, 7u);
}

TEST(OomReportVersionsTest, Kernel49NodemaskInTheTriggerAndNrPmdsColumn) {
  const std::string log = rawLog({
      "[  100.000001] stress invoked oom-killer: "
      "gfp_mask=0x24280ca(GFP_HIGHUSER_MOVABLE|__GFP_ZERO), nodemask=0-1,3, order=0, "
      "oom_score_adj=0",
      "[  100.000002] stress cpuset=/ mems_allowed=0-1,3",
      "[  100.000003] CPU: 0 PID: 700 Comm: stress Not tainted 4.9.0-8-amd64 #1 Debian 4.9.130-2",
      "[  100.000010] [ pid ]   uid  tgid total_vm      rss nr_ptes nr_pmds swapents "
      "oom_score_adj name",
      "[  100.000011] [  700]  1000   700   600000   500000    1000       5        0"
      "             0 stress",
      "[  100.000020] Out of memory: Kill process 700 (stress) score 950 or sacrifice child",
      "[  100.000021] Killed process 700 (stress) total-vm:2400000kB, anon-rss:2000000kB, "
      "file-rss:4kB, shmem-rss:0kB",
      "[  100.100000] oom_reaper: reaped process 700 (stress), now anon-rss:0kB, file-rss:0kB, "
      "shmem-rss:0kB",
  });

  const OomReport r = parseOne(log);

  EXPECT_EQ(r.trigger.gfp_mask, "0x24280ca");
  EXPECT_EQ(r.trigger.gfp_flags, (std::vector<std::string>{"GFP_HIGHUSER_MOVABLE", "__GFP_ZERO"}));
  EXPECT_EQ(r.nodemask, "0-1,3");
  EXPECT_EQ(r.trigger.order, 0);
  EXPECT_EQ(r.mems_allowed, "0-1,3");
  EXPECT_EQ(r.kernel_version, "4.9.0-8-amd64");
  ASSERT_EQ(r.tasks.size(), 1u);
  expectTask(r.tasks[0], {.pid = 700,
                          .uid = 1000,
                          .tgid = 700,
                          .total_vm_pages = 600000,
                          .rss_pages = 500000,
                          .nr_ptes = 1000,
                          .nr_pmds = 5,
                          .swapents = 0,
                          .oom_score_adj = 0,
                          .name = "stress"});
  expectVictim(r.victim, {.pid = 700,
                          .comm = "stress",
                          .total_vm_kb = 2400000,
                          .anon_rss_kb = 2000000,
                          .file_rss_kb = 4,
                          .shmem_rss_kb = 0,
                          .score = 950});
  ASSERT_TRUE(r.reaped);
  EXPECT_EQ(r.reaped->pid, 700);
  EXPECT_EQ(r.last_line, 8u);
}

TEST(OomReportVersionsTest, Kernel414NrPudsColumn) {
  const std::string log = rawLog({
      "a invoked oom-killer: gfp_mask=0x14200ca(GFP_HIGHUSER_MOVABLE), nodemask=(null), "
      "order=0, oom_score_adj=0",
      "[ pid ]   uid  tgid total_vm      rss nr_ptes nr_pmds nr_puds swapents oom_score_adj name",
      "[  800]     0   800     5000     4000      20       3       2        7           100 a",
      "Killed process 800 (a) total-vm:20000kB, anon-rss:16000kB, file-rss:0kB, shmem-rss:0kB",
  });

  const OomReport r = parseOne(log);

  EXPECT_EQ(r.nodemask, "(null)");
  ASSERT_EQ(r.tasks.size(), 1u);
  expectTask(r.tasks[0], {.pid = 800,
                          .uid = 0,
                          .tgid = 800,
                          .total_vm_pages = 5000,
                          .rss_pages = 4000,
                          .nr_ptes = 20,
                          .nr_pmds = 3,
                          .nr_puds = 2,
                          .swapents = 7,
                          .oom_score_adj = 100,
                          .name = "a"});
}

TEST(OomReportVersionsTest, Kernel418PgtablesBytesWithoutTasksStateLine) {
  const std::string log = rawLog({
      "[ 50.100000] a.out invoked oom-killer: gfp_mask=0x6280ca(GFP_HIGHUSER_MOVABLE|__GFP_ZERO), "
      "nodemask=(null), order=0, oom_score_adj=0",
      "[ 50.100001] CPU: 2 PID: 900 Comm: a.out Not tainted 4.18.0-80.el8.x86_64 #1",
      "[ 50.200000] [ pid ]   uid  tgid total_vm      rss pgtables_bytes swapents "
      "oom_score_adj name",
      "[ 50.200001] [  900]     0   900  1000000   900000  7340032        0             0 a.out",
      "[ 50.300000] Out of memory: Kill process 900 (a.out) score 912 or sacrifice child",
      "[ 50.300001] Killed process 900 (a.out) total-vm:4000000kB, anon-rss:3600000kB, "
      "file-rss:0kB, shmem-rss:0kB",
  });

  const OomReport r = parseOne(log);

  ASSERT_EQ(r.tasks.size(), 1u);
  expectTask(r.tasks[0], {.pid = 900,
                          .uid = 0,
                          .tgid = 900,
                          .total_vm_pages = 1000000,
                          .rss_pages = 900000,
                          .pgtables_bytes = 7340032,
                          .swapents = 0,
                          .oom_score_adj = 0,
                          .name = "a.out"});
  expectVictim(r.victim, {.pid = 900,
                          .comm = "a.out",
                          .total_vm_kb = 4000000,
                          .anon_rss_kb = 3600000,
                          .file_rss_kb = 0,
                          .shmem_rss_kb = 0,
                          .score = 912});
}

TEST(OomReportVersionsTest, MemcgV1TaskInLineAndMemcgKillDecision) {
  const std::string log = rawLog({
      "[ 200.0] stress invoked oom-killer: gfp_mask=0x14000c0(GFP_KERNEL), nodemask=(null), "
      "order=0, oom_score_adj=0",
      "[ 200.0] Task in /docker/abc killed as a result of limit of /docker",
      "[ 200.0] memory: usage 524288kB, limit 524288kB, failcnt 1234",
      "[ 200.0] memory+swap: usage 0kB, limit 9007199254740988kB, failcnt 0",
      "[ 200.0] Memory cgroup stats for /docker: cache:0KB rss:0KB rss_huge:0KB",
      "[ 200.0] Memory cgroup stats for /docker/abc: cache:0KB rss:520000KB",
      "[ 200.0] Memory cgroup out of memory: Kill process 1500 (stress) score 993 or sacrifice "
      "child",
      "[ 200.0] Killed process 1500 (stress) total-vm:560000kB, anon-rss:520000kB, file-rss:0kB, "
      "shmem-rss:0kB",
  });

  const OomReport r = parseOne(log);

  EXPECT_TRUE(r.memcg);
  EXPECT_EQ(r.memcg_path, "/docker");
  EXPECT_EQ(r.task_memcg, "/docker/abc");
  EXPECT_EQ(r.memcg_usage_kb, 524288u);
  EXPECT_EQ(r.memcg_limit_kb, 524288u);
  EXPECT_EQ(r.constraint, std::nullopt);
  expectVictim(r.victim, {.pid = 1500,
                          .comm = "stress",
                          .total_vm_kb = 560000,
                          .anon_rss_kb = 520000,
                          .file_rss_kb = 0,
                          .shmem_rss_kb = 0,
                          .score = 993});
}

TEST(OomReportVersionsTest, MemcgIsKnownFromTheKillLineAlone) {
  const std::string log = rawLog({
      "a invoked oom-killer: gfp_mask=0xd0, order=0, oom_adj=0, oom_score_adj=0",
      "Memory cgroup out of memory: kill process 10 (a) score 5 or a child",
      "Killed process 10 (a) total-vm:100kB, anon-rss:50kB, file-rss:0kB",
  });

  const OomReport r = parseOne(log);

  EXPECT_TRUE(r.memcg);
  EXPECT_EQ(r.memcg_path, std::nullopt);
}

TEST(OomReportVersionsTest, LaterRhel7KilledLineWithUidAfterTheComm) {
  const std::string log = rawLog({
      "a invoked oom-killer: gfp_mask=0x201da, order=0, oom_score_adj=0",
      "Killed process 1234 (java), UID 1000, total-vm:8000kB, anon-rss:6000kB, file-rss:0kB, "
      "shmem-rss:4kB",
  });

  const OomReport r = parseOne(log);

  expectVictim(r.victim, {.pid = 1234,
                          .comm = "java",
                          .total_vm_kb = 8000,
                          .anon_rss_kb = 6000,
                          .file_rss_kb = 0,
                          .shmem_rss_kb = 4,
                          .uid = 1000});
}

TEST(OomReportVersionsTest, Kernel419SummarySplitInTwoLines) {
  const std::string log = rawLog({
      "a invoked oom-killer: gfp_mask=0x6000c0(GFP_KERNEL), nodemask=(null), order=0, "
      "oom_score_adj=0",
      "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0",
      ",oom_memcg=/kubepods/pod1,task_memcg=/kubepods/pod1/c1,task=a,pid=77,uid=1000",
      "Memory cgroup out of memory: Kill process 77 (a) score 1998 or sacrifice child",
      "Killed process 77 (a) total-vm:1000kB, anon-rss:900kB, file-rss:0kB, shmem-rss:0kB",
  });

  const OomReport r = parseOne(log);

  EXPECT_EQ(r.constraint, "CONSTRAINT_MEMCG");
  EXPECT_EQ(r.memcg_path, "/kubepods/pod1");
  EXPECT_EQ(r.task_memcg, "/kubepods/pod1/c1");
  // uid from the summary, score from the decision, sizes from the kill line: one victim.
  expectVictim(r.victim, {.pid = 77,
                          .comm = "a",
                          .total_vm_kb = 1000,
                          .anon_rss_kb = 900,
                          .file_rss_kb = 0,
                          .shmem_rss_kb = 0,
                          .uid = 1000,
                          .score = 1998});
}

TEST(OomReportVersionsTest, SummaryValuesWithCommasAndAGlobalOom) {
  const std::string log = rawLog({
      "a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
      "oom-kill:constraint=CONSTRAINT_MEMORY_POLICY,nodemask=0-1,3,cpuset=web,mems_allowed=0-3,"
      "global_oom,task_memcg=/a,b,task=x,y,pid=9,uid=4294967295",
  });

  const OomReport r = parseOne(log);

  EXPECT_EQ(r.constraint, "CONSTRAINT_MEMORY_POLICY");
  EXPECT_EQ(r.nodemask, "0-1,3");
  EXPECT_EQ(r.cpuset, "web");
  EXPECT_EQ(r.mems_allowed, "0-3");
  EXPECT_FALSE(r.memcg);
  EXPECT_EQ(r.memcg_path, std::nullopt);
  EXPECT_EQ(r.task_memcg, "/a,b");
  expectVictim(r.victim, {.pid = 9, .comm = "x,y", .uid = 4294967295u});
  EXPECT_FALSE(r.complete);  // the kill line never came
}

TEST(OomReportVersionsTest, RateLimitedKernel26KillStartsAtItsLowercaseDecision) {
  const std::string log = rawLog({
      "eth0: link up",
      "Out of memory: kill process 5 (a) score 9 or a child",
      "Killed process 6 (a child)",
  });

  const OomReport r = parseOne(log);

  EXPECT_EQ(r.first_line, 2u);
  EXPECT_EQ(r.trigger.comm, "");
  expectVictim(r.victim, {.pid = 6, .comm = "a child"});
  EXPECT_TRUE(r.complete);
}

TEST(OomReportVersionsTest, TriggerWithEmptyCommAndEmptyFlagList) {
  const std::string log = rawLog({
      " invoked oom-killer: gfp_mask=0x0(), nodemask=(null), order=0, oom_score_adj=-17",
      "Killed process 5 (a) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB",
  });

  const OomReport r = parseOne(log);

  EXPECT_EQ(r.trigger.comm, "");
  EXPECT_EQ(r.trigger.gfp_mask, "0x0");
  EXPECT_TRUE(r.trigger.gfp_flags.empty());
  EXPECT_EQ(r.trigger.oom_score_adj, -17);
}

TEST(OomReportVersionsTest, MemcgPathFromLimitReachedOrFirstStatsLine) {
  const std::string limit_reached = rawLog({
      "a invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=0",
      "Memory limit reached of cgroup /lxc/web",
      "Memory cgroup stats for /lxc/web/child: cache:0KB",
  });
  const std::string stats_only = rawLog({
      "a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
      "Memory cgroup stats for /system.slice/x.service:",
      "anon 1000",
      "Memory cgroup stats for /system.slice/x.service/child:",
  });

  const OomReport a = parseOne(limit_reached);
  const OomReport b = parseOne(stats_only);

  EXPECT_TRUE(a.memcg);
  EXPECT_EQ(a.memcg_path, "/lxc/web");
  EXPECT_TRUE(b.memcg);
  EXPECT_EQ(b.memcg_path, "/system.slice/x.service");
}

TEST(OomReportVersionsTest, LaterRhel7KilledLineWithHostileComm) {
  const std::string log = rawLog({
      "a invoked oom-killer: gfp_mask=0x201da, order=0, oom_score_adj=0",
      "Killed process 9 (j) total-vm:1kB (a), UID 7, total-vm:8000kB, anon-rss:6000kB, "
      "file-rss:0kB, shmem-rss:0kB",
  });

  const OomReport r = parseOne(log);

  expectVictim(r.victim, {.pid = 9,
                          .comm = "j) total-vm:1kB (a",
                          .total_vm_kb = 8000,
                          .anon_rss_kb = 6000,
                          .file_rss_kb = 0,
                          .shmem_rss_kb = 0,
                          .uid = 7});
}

}  // namespace
}  // namespace oomkit::core
