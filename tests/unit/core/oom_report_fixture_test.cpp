// The real kernel reports of tests/fixtures/oom-logs (see its README.md): every field the
// kernel printed, read exactly; the fields it did not print stay empty.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "oomkit/core/oom_report.h"

#include "oom_report_test_support.h"

// The expected values below are designated initialisers that name exactly the fields the
// kernel printed; every field left out is meant to be empty (nullopt), so GCC's warning about
// left-out fields does not apply here.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace oomkit::core {
namespace {

using test::expectTask;
using test::expectVictim;
using test::findTask;
using test::readFixture;

struct FixtureCase {
  std::string file;
  size_t last_line = 0;
  std::optional<std::string> timestamp;
  std::optional<std::string> kernel_version;
  OomTrigger trigger;
  bool memcg = false;
  bool manual = false;
  std::optional<std::string> constraint;
  std::optional<std::string> memcg_path;
  std::optional<std::string> task_memcg;
  std::optional<uint64_t> memcg_usage_kb;
  std::optional<uint64_t> memcg_limit_kb;
  std::optional<std::string> cpuset;
  std::optional<std::string> mems_allowed;
  OomVictim victim;
  std::optional<OomReaped> reaped;
  size_t task_count = 0;
  std::vector<OomTask> rows;  // a sample of the table, found by pid
};

std::vector<FixtureCase> fixtureCases() {
  std::vector<FixtureCase> cases;
  cases.push_back({
      .file = "05-rhel7-3.10.0-514-global-numa.log",
      .last_line = 144,
      .kernel_version = "3.10.0-514.6.1.el7.x86_64",
      .trigger = {.comm = "sed", .pid = 29481, .gfp_mask = "0x201da", .oom_score_adj = 0},
      .cpuset = "/",
      .mems_allowed = "0-1",
      .victim = {.pid = 6576,
                 .comm = "mysqld",
                 .total_vm_kb = 33914892,
                 .anon_rss_kb = 20629004,
                 .file_rss_kb = 0,
                 .shmem_rss_kb = 0,
                 .score = 651},
      .task_count = 85,
      .rows = {{.pid = 390,
                .uid = 0,
                .tgid = 390,
                .total_vm_pages = 39012,
                .rss_pages = 6739,
                .nr_ptes = 78,
                .swapents = 51,
                .oom_score_adj = 0,
                .name = "systemd-journal"},
               {.pid = 433,
                .uid = 0,
                .tgid = 433,
                .total_vm_pages = 11104,
                .rss_pages = 2,
                .nr_ptes = 22,
                .swapents = 360,
                .oom_score_adj = -1000,
                .name = "systemd-udevd"},
               {.pid = 6576,
                .uid = 12345,
                .tgid = 6576,
                .total_vm_pages = 8478546,
                .rss_pages = 5157063,
                .nr_ptes = 15483,
                .swapents = 1527848,
                .oom_score_adj = 0,
                .name = "mysqld"},
               {.pid = 29752,
                .uid = 12345,
                .tgid = 29752,
                .total_vm_pages = 7522,
                .rss_pages = 296,
                .nr_ptes = 19,
                .swapents = 0,
                .oom_score_adj = 0,
                .name = "rotatelogs"}},
  });
  cases.push_back({
      .file = "10-ubuntu-5.13-sysrq-manual-oom.log",
      .last_line = 69,
      .kernel_version = "5.13.0-19-generic",
      .trigger = {.comm = "kworker/0:2",
                  .pid = 735,
                  .gfp_mask = "0xcc0",
                  .gfp_flags = {"GFP_KERNEL"},
                  .order = -1,
                  .oom_score_adj = 0},
      .manual = true,
      .constraint = "CONSTRAINT_NONE",
      .task_memcg = "/system.slice/unattended-upgrades.service",
      .cpuset = "/",
      .mems_allowed = "0",
      .victim = {.pid = 651,
                 .comm = "unattended-upgr",
                 .total_vm_kb = 108020,
                 .anon_rss_kb = 8380,
                 .file_rss_kb = 12548,
                 .shmem_rss_kb = 0,
                 .uid = 0,
                 .pgtables_kb = 104,
                 .oom_score_adj = 0},
      .task_count = 23,
      .rows = {{.pid = 323,
                .uid = 0,
                .tgid = 323,
                .total_vm_pages = 9458,
                .rss_pages = 2766,
                .pgtables_bytes = 77824,
                .swapents = 0,
                .oom_score_adj = -250,
                .name = "systemd-journal"},
               {.pid = 651,
                .uid = 0,
                .tgid = 651,
                .total_vm_pages = 27005,
                .rss_pages = 5232,
                .pgtables_bytes = 106496,
                .swapents = 0,
                .oom_score_adj = 0,
                .name = "unattended-upgr"},
               {.pid = 857,
                .uid = 1000,
                .tgid = 857,
                .total_vm_pages = 25433,
                .rss_pages = 835,
                .pgtables_bytes = 86016,
                .swapents = 0,
                .oom_score_adj = 0,
                .name = "(sd-pam)"}},
  });
  cases.push_back({
      .file = "11-proxmox-5.15-memcg-v2-lxc-dmesgT.log",
      .last_line = 159,
      .timestamp = "Di Aug 12 03:54:03 2025",
      .kernel_version = "5.15.158-2-pve",
      .trigger = {.comm = "php-fpm",
                  .pid = 3923954,
                  .gfp_mask = "0x1100cca",
                  .gfp_flags = {"GFP_HIGHUSER_MOVABLE"},
                  .order = 0,
                  .oom_score_adj = 0},
      .memcg = true,
      .constraint = "CONSTRAINT_MEMCG",
      .memcg_path = "/lxc/39004",
      .task_memcg = "/lxc/39004/ns/system.slice/"
                    "docker-a59e4e7d3090c04c6ce5a4b7a8bc85228eb9b96ac00b1284643a8c7c11dda661.scope",
      .memcg_usage_kb = 31211520,
      .memcg_limit_kb = 31211520,
      .cpuset = "docker-a59e4e7d3090c04c6ce5a4b7a8bc85228eb9b96ac00b1284643a8c7c11dda661.scope",
      .mems_allowed = "0",
      .victim = {.pid = 3902942,
                 .comm = "php-fpm",
                 .total_vm_kb = 14740176,
                 .anon_rss_kb = 12625252,
                 .file_rss_kb = 0,
                 .shmem_rss_kb = 156088,
                 .uid = 1000,
                 .pgtables_kb = 26388,
                 .oom_score_adj = 0},
      .task_count = 73,
      .rows = {{.pid = 1833435,
                .uid = 0,
                .tgid = 1833435,
                .total_vm_pages = 5294,
                .rss_pages = 360,
                .pgtables_bytes = 81920,
                .swapents = 0,
                .oom_score_adj = 0,
                .name = "systemd"},
               {.pid = 3902942,
                .uid = 1000,
                .tgid = 3902942,
                .total_vm_pages = 3685044,
                .rss_pages = 3195335,
                .pgtables_bytes = 27021312,
                .swapents = 0,
                .oom_score_adj = 0,
                .name = "php-fpm"},
               {.pid = 23635,
                .uid = 0,
                .tgid = 23635,
                .total_vm_pages = 560832,
                .rss_pages = 3493,
                .pgtables_bytes = 335872,
                .swapents = 0,
                .oom_score_adj = -999,
                .name = "containerd"}},
  });
  cases.push_back({
      .file = "12-arch-6.1.1-global-oomreaper.log",
      .last_line = 174,
      .kernel_version = "6.1.1-arch1-1",
      .trigger = {.comm = "doxygen",
                  .pid = 473206,
                  .gfp_mask = "0x140dca",
                  .gfp_flags = {"GFP_HIGHUSER_MOVABLE", "__GFP_COMP", "__GFP_ZERO"},
                  .order = 0,
                  .oom_score_adj = 0},
      .constraint = "CONSTRAINT_NONE",
      .task_memcg = "/user.slice/user-504.slice/session-2.scope",
      .cpuset = "/",
      .mems_allowed = "0",
      .victim = {.pid = 473206,
                 .comm = "doxygen",
                 .total_vm_kb = 30290680,
                 .anon_rss_kb = 9234320,
                 .file_rss_kb = 4,
                 .shmem_rss_kb = 0,
                 .uid = 504,
                 .pgtables_kb = 59264,
                 .oom_score_adj = 0},
      .reaped = OomReaped{.pid = 473206,
                          .comm = "doxygen",
                          .anon_rss_kb = 0,
                          .file_rss_kb = 0,
                          .shmem_rss_kb = 0},
      .task_count = 112,
      .rows = {{.pid = 473206,
                .uid = 504,
                .tgid = 473206,
                .total_vm_pages = 7572670,
                .rss_pages = 2308581,
                .pgtables_bytes = 60686336,
                .swapents = 5225427,
                .oom_score_adj = 0,
                .name = "doxygen"},
               {.pid = 376692,
                .uid = 504,
                .tgid = 376692,
                .total_vm_pages = 296469227,
                .rss_pages = 2362,
                .pgtables_bytes = 1826816,
                .swapents = 57194,
                .oom_score_adj = 300,
                .name = "chrome"}},
  });
  cases.push_back({
      .file = "13-kernel-6.18-memcg-v1-devkmsg.log",
      .last_line = 79,
      .timestamp = "321.568863",
      .kernel_version = "6.18.44-fc-v657",
      .trigger = {.comm = "memcg_exp",
                  .pid = 8316,
                  .gfp_mask = "0xcc0",
                  .gfp_flags = {"GFP_KERNEL"},
                  .order = 0,
                  .oom_score_adj = 0},
      .memcg = true,
      .constraint = "CONSTRAINT_MEMCG",
      .memcg_path = "/feas_test",
      .task_memcg = "/feas_test",
      .memcg_usage_kb = 204800,
      .memcg_limit_kb = 204800,
      .cpuset = "/",
      .mems_allowed = "0",
      .victim = {.pid = 8316,
                 .comm = "memcg_exp",
                 .total_vm_kb = 210560,
                 .anon_rss_kb = 204548,
                 .file_rss_kb = 1752,
                 .shmem_rss_kb = 0,
                 .uid = 0,
                 .pgtables_kb = 452,
                 .oom_score_adj = 0},
      .task_count = 1,
      .rows = {{.pid = 8316,
                .uid = 0,
                .tgid = 8316,
                .total_vm_pages = 52640,
                .rss_pages = 51575,
                .rss_anon_pages = 51137,
                .rss_file_pages = 438,
                .rss_shmem_pages = 0,
                .pgtables_bytes = 462848,
                .swapents = 0,
                .oom_score_adj = 0,
                .name = "memcg_exp"}},
  });
  cases.push_back({
      .file = "14-kernel-6.18-memcg-v1-dmesg-scored.log",
      .last_line = 91,
      .timestamp = "412.766678",
      .kernel_version = "6.18.44-fc-v657",
      .trigger = {.comm = "score_victim",
                  .pid = 13301,
                  .gfp_mask = "0xcc0",
                  .gfp_flags = {"GFP_KERNEL"},
                  .order = 0,
                  .oom_score_adj = 0},
      .memcg = true,
      .constraint = "CONSTRAINT_MEMCG",
      .memcg_path = "/feas_score",
      .task_memcg = "/feas_score",
      .memcg_usage_kb = 4194304,
      .memcg_limit_kb = 4194304,
      .cpuset = "/",
      .mems_allowed = "0",
      .victim = {.pid = 13306,
                 .comm = "score_victim",
                 .total_vm_kb = 10776,
                 .anon_rss_kb = 5248,
                 .file_rss_kb = 3164,
                 .shmem_rss_kb = 0,
                 .uid = 0,
                 .pgtables_kb = 60,
                 .oom_score_adj = 1000},
      .task_count = 12,
      .rows = {{.pid = 13306,
                .uid = 0,
                .tgid = 13306,
                .total_vm_pages = 2694,
                .rss_pages = 2103,
                .rss_anon_pages = 1312,
                .rss_file_pages = 791,
                .rss_shmem_pages = 0,
                .pgtables_bytes = 61440,
                .swapents = 0,
                .oom_score_adj = 1000,
                .name = "score_victim"},
               {.pid = 13307,
                .uid = 0,
                .tgid = 13307,
                .total_vm_pages = 160134,
                .rss_pages = 128829,
                .rss_anon_pages = 102432,
                .rss_file_pages = 797,
                .rss_shmem_pages = 25600,
                .pgtables_bytes = 1224704,
                .swapents = 0,
                .oom_score_adj = 333,
                .name = "score_victim"}},
  });
  return cases;
}

void expectFixture(const OomReport& r, const FixtureCase& c) {
  EXPECT_EQ(r.first_line, 1u);
  EXPECT_EQ(r.last_line, c.last_line);
  EXPECT_EQ(r.timestamp, c.timestamp);
  EXPECT_EQ(r.host, std::nullopt);
  EXPECT_EQ(r.kernel_version, c.kernel_version);
  EXPECT_EQ(r.trigger.comm, c.trigger.comm);
  EXPECT_EQ(r.trigger.pid, c.trigger.pid);
  EXPECT_EQ(r.trigger.gfp_mask, c.trigger.gfp_mask);
  EXPECT_EQ(r.trigger.gfp_flags, c.trigger.gfp_flags);
  EXPECT_EQ(r.trigger.order, c.trigger.order);
  EXPECT_EQ(r.trigger.oom_score_adj, c.trigger.oom_score_adj);
  EXPECT_EQ(r.trigger.oom_adj, std::nullopt);
  EXPECT_EQ(r.trigger.oomkilladj, std::nullopt);
  EXPECT_EQ(r.memcg, c.memcg);
  EXPECT_EQ(r.manual, c.manual);
  EXPECT_EQ(r.constraint, c.constraint);
  EXPECT_EQ(r.memcg_path, c.memcg_path);
  EXPECT_EQ(r.task_memcg, c.task_memcg);
  EXPECT_EQ(r.memcg_usage_kb, c.memcg_usage_kb);
  EXPECT_EQ(r.memcg_limit_kb, c.memcg_limit_kb);
  EXPECT_EQ(r.cpuset, c.cpuset);
  EXPECT_EQ(r.mems_allowed, c.mems_allowed);
  expectVictim(r.victim, c.victim);
  ASSERT_EQ(r.reaped.has_value(), c.reaped.has_value());
  if (c.reaped) {
    EXPECT_EQ(r.reaped->pid, c.reaped->pid);
    EXPECT_EQ(r.reaped->comm, c.reaped->comm);
    EXPECT_EQ(r.reaped->anon_rss_kb, c.reaped->anon_rss_kb);
    EXPECT_EQ(r.reaped->file_rss_kb, c.reaped->file_rss_kb);
    EXPECT_EQ(r.reaped->shmem_rss_kb, c.reaped->shmem_rss_kb);
  }
  EXPECT_TRUE(r.complete);
  EXPECT_FALSE(r.no_killable);
  EXPECT_EQ(r.tasks.size(), c.task_count);
  for (const OomTask& row : c.rows) {
    const OomTask* task = findTask(r, row.pid);
    ASSERT_NE(task, nullptr) << "no row for pid " << row.pid;
    expectTask(*task, row);
  }
}

TEST(OomReportFixtureTest, ReadsEveryFieldOfEachRealReport) {
  for (const FixtureCase& c : fixtureCases()) {
    SCOPED_TRACE(c.file);

    const std::vector<OomReport> reports = parseOomReports(readFixture(c.file));

    ASSERT_EQ(reports.size(), 1u);
    expectFixture(reports[0], c);
  }
}

TEST(OomReportFixtureTest, StreamingGivesTheSameReportsAsTheWholeLog) {
  for (const FixtureCase& c : fixtureCases()) {
    SCOPED_TRACE(c.file);

    const std::vector<OomReport> reports = test::parseStreaming(readFixture(c.file));

    ASSERT_EQ(reports.size(), 1u);
    expectFixture(reports[0], c);
  }
}

TEST(OomReportFixtureTest, KeepsTheTaskTableInKernelOrder) {
  const std::vector<OomReport> reports =
      parseOomReports(readFixture("14-kernel-6.18-memcg-v1-dmesg-scored.log"));

  ASSERT_EQ(reports.size(), 1u);
  std::vector<int32_t> pids;
  for (const OomTask& task : reports[0].tasks)
    pids.push_back(task.pid);
  EXPECT_EQ(pids, (std::vector<int32_t>{13299, 13300, 13302, 13309, 13306, 13298, 13301, 13304,
                                        13308, 13303, 13307, 13305}));
}

TEST(OomReportFixtureTest, AllFixturesConcatenatedAreSixReportsWithTheirOwnLines) {
  const std::vector<std::string> files = {
      "05-rhel7-3.10.0-514-global-numa.log",     "10-ubuntu-5.13-sysrq-manual-oom.log",
      "11-proxmox-5.15-memcg-v2-lxc-dmesgT.log", "12-arch-6.1.1-global-oomreaper.log",
      "13-kernel-6.18-memcg-v1-devkmsg.log",     "14-kernel-6.18-memcg-v1-dmesg-scored.log"};
  std::string log;
  for (const std::string& file : files)
    log += readFixture(file);

  const std::vector<OomReport> reports = parseOomReports(log);

  ASSERT_EQ(reports.size(), 6u);
  const std::vector<size_t> first_lines = {1, 145, 214, 373, 547, 626};
  const std::vector<int32_t> victims = {6576, 651, 3902942, 473206, 8316, 13306};
  for (size_t i = 0; i < reports.size(); ++i) {
    SCOPED_TRACE(files[i]);
    EXPECT_EQ(reports[i].first_line, first_lines[i]);
    ASSERT_TRUE(reports[i].victim);
    EXPECT_EQ(reports[i].victim->pid, victims[i]);
    EXPECT_TRUE(reports[i].complete);
  }
  EXPECT_TRUE(reports[3].reaped);
  EXPECT_FALSE(reports[4].reaped);
}

}  // namespace
}  // namespace oomkit::core
