// One report in every line-prefix style, and the streaming rules: several reports, foreign
// lines, cut-off reports, the reaper line's window, rate-limited kills, flush() and finish().
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "oomkit/core/oom_report.h"

#include "oom_report_test_support.h"

namespace oomkit::core {
namespace {

using test::parseStreaming;
using test::rawLog;
using test::renderLog;

// A 6.8+ global OOM, as kernel messages (no prefix).
const std::vector<std::string> kReport = {
    "my prog invoked oom-killer: gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, "
    "oom_score_adj=0",
    "CPU: 3 UID: 1000 PID: 4242 Comm: my prog Not tainted 6.8.0-45-generic #45-Ubuntu",
    "Call Trace:",
    " <TASK>",
    " dump_stack_lvl+0x48/0x60",
    " </TASK>",
    "Mem-Info:",
    "Tasks state (memory values in pages):",
    "[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents "
    "oom_score_adj name",
    "[   4242]  1000  4242   500000   400000   399000     1000         0  3276800        0"
    "             0 my prog",
    "[   4300]  1000  4300   100000    90000    89000     1000         0   819200       12"
    "           200 a (b) c)",
    "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
    "task_memcg=/user.slice,task=my prog,pid=4242,uid=1000",
    "Out of memory: Killed process 4242 (my prog) total-vm:2000000kB, anon-rss:1596000kB, "
    "file-rss:4000kB, shmem-rss:0kB, UID:1000 pgtables:3200kB oom_score_adj:0",
};
constexpr size_t kReportLines = 13;

void expectBaseReport(const OomReport& r) {
  EXPECT_EQ(r.trigger.comm, "my prog");
  EXPECT_EQ(r.trigger.pid, 4242);
  EXPECT_EQ(r.kernel_version, "6.8.0-45-generic");
  ASSERT_EQ(r.tasks.size(), 2u);
  EXPECT_EQ(r.tasks[1].name, "a (b) c)");
  EXPECT_EQ(r.tasks[1].swapents, 12u);
  EXPECT_EQ(r.tasks[1].oom_score_adj, 200);
  EXPECT_EQ(r.task_memcg, "/user.slice");
  ASSERT_TRUE(r.victim);
  EXPECT_EQ(r.victim->pid, 4242);
  EXPECT_EQ(r.victim->comm, "my prog");
  EXPECT_EQ(r.victim->pgtables_kb, 3200u);
  EXPECT_TRUE(r.complete);
}

struct StyleCase {
  std::string name;
  std::function<std::string(size_t)> prefix;
  std::optional<std::string> timestamp;
  std::optional<std::string> host;
};

std::vector<StyleCase> styleCases() {
  return {
      {"raw", [](size_t) { return std::string(); }, std::nullopt, std::nullopt},
      {"/dev/kmsg",
       [](size_t i) {
         return "4," + std::to_string(100 + i) + "," + std::to_string(5000 + i) + ",-;";
       },
       "0.005000", std::nullopt},
      {"dmesg", [](size_t i) { return "[  412.76667" + std::to_string(i % 10) + "] "; },
       "412.766670", std::nullopt},
      {"dmesg -T German", [](size_t) { return std::string("[Mi Nov 20 01:02:03 2024] "); },
       "Mi Nov 20 01:02:03 2024", std::nullopt},
      {"dmesg -x", [](size_t) { return std::string("kern  :info  : [    9.500000] "); }, "9.500000",
       std::nullopt},
      {"syslog with host", [](size_t) { return std::string("Nov 22 01:02:03 web01 kernel: "); },
       "Nov 22 01:02:03", "web01"},
      {"syslog without host", [](size_t) { return std::string("Nov 22 01:02:03 kernel: "); },
       "Nov 22 01:02:03", std::nullopt},
      {"syslog with kernel seconds",
       [](size_t) { return std::string("Nov  2 01:02:03 web01 kernel: [ 1234.500000] "); },
       "Nov  2 01:02:03", "web01"},
      {"journalctl short", [](size_t) { return std::string("Nov 22 01:02:03 web01 kernel: "); },
       "Nov 22 01:02:03", "web01"},
      {"journalctl short-iso",
       [](size_t) { return std::string("2026-11-22T01:02:03+0100 web01 kernel: "); },
       "2026-11-22T01:02:03+0100", "web01"},
      {"mail quote of dmesg", [](size_t) { return std::string("> [    9.500000] "); }, "9.500000",
       std::nullopt},
      {"double mail quote of syslog",
       [](size_t) { return std::string("> > Nov 22 01:02:03 web01 kernel: "); }, "Nov 22 01:02:03",
       "web01"},
  };
}

TEST(OomReportStreamTest, ReadsTheSameReportInEveryPrefixStyle) {
  for (const StyleCase& c : styleCases()) {
    SCOPED_TRACE(c.name);
    const std::string log = renderLog(kReport, c.prefix);

    const std::vector<OomReport> reports = parseOomReports(log);

    ASSERT_EQ(reports.size(), 1u);
    expectBaseReport(reports[0]);
    EXPECT_EQ(reports[0].timestamp, c.timestamp);
    EXPECT_EQ(reports[0].host, c.host);
    EXPECT_EQ(reports[0].first_line, 1u);
    EXPECT_EQ(reports[0].last_line, kReportLines);
  }
}

TEST(OomReportStreamTest, SplitsRsyslogEscapedNewlines) {
  std::string joined;
  for (size_t i = 1; i < kReport.size(); ++i)
    joined += (i > 1 ? "#012" : "") + kReport[i];
  const std::string log = "Nov 22 01:02:03 web01 kernel: " + kReport[0] + "\n" +
                          "Nov 22 01:02:03 web01 kernel: " + joined + "\n";

  const std::vector<OomReport> reports = parseOomReports(log);

  ASSERT_EQ(reports.size(), 1u);
  expectBaseReport(reports[0]);
  EXPECT_EQ(reports[0].host, "web01");
  EXPECT_EQ(reports[0].last_line, 2u);
}

TEST(OomReportStreamTest, IgnoresInterleavedLinesOfOtherPrograms) {
  std::vector<std::string> lines;
  for (const std::string& message : kReport) {
    lines.push_back("Nov 22 01:02:03 web01 kernel: " + message);
    lines.push_back("Nov 22 01:02:03 web01 sshd[77]: [  9999]     0  9999 1 2 3 4 5 6 7 8 evil");
    lines.push_back("Nov 22 01:02:03 web01 app[78]: Killed process 1 (init) total-vm:1kB");
  }

  const std::vector<OomReport> reports = parseOomReports(rawLog(lines));

  ASSERT_EQ(reports.size(), 1u);
  expectBaseReport(reports[0]);
  EXPECT_EQ(reports[0].last_line, 3 * kReportLines - 2);
}

TEST(OomReportStreamTest, IgnoresAnotherHostsKernelInsideAReport) {
  std::vector<std::string> lines;
  for (const std::string& message : kReport) {
    lines.push_back("Nov 22 01:02:03 web01 kernel: " + message);
    lines.push_back("Nov 22 01:02:03 web02 kernel: [   9999]     0  9999 1 2 3 4 5 6 7 8 0 x");
  }

  const std::vector<OomReport> reports = parseOomReports(rawLog(lines));

  ASSERT_EQ(reports.size(), 1u);
  expectBaseReport(reports[0]);
}

TEST(OomReportStreamTest, TwoReportsInOneInput) {
  std::vector<std::string> lines = kReport;
  lines.push_back("eth0: link up");
  lines.insert(lines.end(), kReport.begin(), kReport.end());

  const std::vector<OomReport> reports = parseOomReports(rawLog(lines));

  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].first_line, 1u);
  EXPECT_EQ(reports[0].last_line, kReportLines);
  EXPECT_EQ(reports[1].first_line, kReportLines + 2);
  EXPECT_EQ(reports[1].last_line, 2 * kReportLines + 1);
  expectBaseReport(reports[1]);
}

TEST(OomReportStreamTest, ReportCutOffAtTheEndIsIncomplete) {
  const std::vector<std::string> lines(kReport.begin(), kReport.begin() + 10);

  const std::vector<OomReport> reports = parseOomReports(rawLog(lines));

  ASSERT_EQ(reports.size(), 1u);
  EXPECT_FALSE(reports[0].complete);
  EXPECT_FALSE(reports[0].victim);
  EXPECT_EQ(reports[0].tasks.size(), 1u);
  EXPECT_EQ(reports[0].last_line, 10u);
}

TEST(OomReportStreamTest, ReportCutOffByTheNextOne) {
  std::vector<std::string> lines(kReport.begin(), kReport.begin() + 10);
  lines.insert(lines.end(), kReport.begin(), kReport.end());

  const std::vector<OomReport> reports = parseOomReports(rawLog(lines));

  ASSERT_EQ(reports.size(), 2u);
  EXPECT_FALSE(reports[0].complete);
  EXPECT_EQ(reports[0].tasks.size(), 1u);
  EXPECT_TRUE(reports[1].complete);
  EXPECT_EQ(reports[1].tasks.size(), 2u);
}

std::vector<std::string> reportWithReaperAfter(size_t unrelated_lines) {
  std::vector<std::string> lines = kReport;
  for (size_t i = 0; i < unrelated_lines; ++i)
    lines.push_back("eth0: link up " + std::to_string(i));
  lines.push_back(
      "oom_reaper: reaped process 4242 (my prog), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB");
  return lines;
}

TEST(OomReportStreamTest, StreamingHandsOutTheReportAtItsReaperLine100LinesLater) {
  const std::vector<std::string> lines = reportWithReaperAfter(100);
  OomReportParser parser;

  for (size_t i = 0; i + 1 < lines.size(); ++i)
    parser.feed(lines[i]);
  EXPECT_TRUE(parser.takeReports().empty());
  parser.feed(lines.back());
  const std::vector<OomReport> reports = parser.takeReports();

  ASSERT_EQ(reports.size(), 1u);
  ASSERT_TRUE(reports[0].reaped);
  EXPECT_EQ(reports[0].reaped->pid, 4242);
  EXPECT_EQ(reports[0].last_line, kReportLines + 101);
}

TEST(OomReportStreamTest, StreamingGivesUpOnTheReaperAfter256Lines) {
  const std::vector<OomReport> reports = parseStreaming(rawLog(reportWithReaperAfter(300)));

  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].complete);
  EXPECT_FALSE(reports[0].reaped);
  EXPECT_EQ(reports[0].last_line, kReportLines);
}

TEST(OomReportStreamTest, StreamingHandsOutExactlyAt256FurtherLines) {
  std::vector<std::string> lines = reportWithReaperAfter(300);
  OomReportParser parser;

  for (size_t i = 0; i < kReportLines + 255; ++i)
    parser.feed(lines[i]);
  EXPECT_TRUE(parser.takeReports().empty());
  parser.feed(lines[kReportLines + 255]);

  EXPECT_EQ(parser.takeReports().size(), 1u);
}

TEST(OomReportStreamTest, WholeLogAttachesAReaperLineThatCameMuchLater) {
  const std::vector<OomReport> reports = parseOomReports(rawLog(reportWithReaperAfter(300)));

  ASSERT_EQ(reports.size(), 1u);
  ASSERT_TRUE(reports[0].reaped);
  EXPECT_EQ(reports[0].reaped->comm, "my prog");
  EXPECT_EQ(reports[0].last_line, kReportLines + 301);
}

TEST(OomReportStreamTest, WholeLogGivesALateReaperToTheLastKillOfThatPid) {
  std::vector<std::string> lines = kReport;
  lines.insert(lines.end(), kReport.begin(), kReport.end());
  for (int i = 0; i < 300; ++i)
    lines.push_back("eth0: link up");
  lines.push_back(
      "oom_reaper: reaped process 4242 (my prog), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB");
  lines.push_back(
      "oom_reaper: reaped process 4242 (my prog), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB");

  const std::vector<OomReport> reports = parseOomReports(rawLog(lines));

  ASSERT_EQ(reports.size(), 2u);
  EXPECT_FALSE(reports[0].reaped);
  EXPECT_TRUE(reports[1].reaped);
}

TEST(OomReportStreamTest, ReaperLineOfAnotherPidIsNotAttached) {
  std::vector<std::string> lines = kReport;
  lines.push_back(
      "oom_reaper: reaped process 4300 (a), now anon-rss:0kB, file-rss:0kB, "
      "shmem-rss:0kB");

  const std::vector<OomReport> reports = parseOomReports(rawLog(lines));

  ASSERT_EQ(reports.size(), 1u);
  EXPECT_FALSE(reports[0].reaped);
}

TEST(OomReportStreamTest, FlushHandsOutCompleteReportsOnly) {
  OomReportParser parser;

  for (const std::string& line : kReport)
    parser.feed(line);
  parser.flush();
  const std::vector<OomReport> complete = parser.takeReports();
  parser.feed(kReport[0]);
  parser.flush();
  const std::vector<OomReport> none = parser.takeReports();
  parser.finish();
  const std::vector<OomReport> cut = parser.takeReports();

  ASSERT_EQ(complete.size(), 1u);
  EXPECT_TRUE(complete[0].complete);
  EXPECT_TRUE(none.empty());
  ASSERT_EQ(cut.size(), 1u);
  EXPECT_FALSE(cut[0].complete);
  EXPECT_EQ(cut[0].first_line, kReportLines + 1);
}

TEST(OomReportStreamTest, RateLimitedKillLineAloneIsACompleteReport) {
  const std::string log = rawLog({
      "Nov 22 01:02:03 web01 systemd[1]: Started x.",
      "Nov 22 01:02:04 web01 kernel: Memory cgroup out of memory: Killed process 1234 (foo bar) "
      "total-vm:5000kB, anon-rss:4000kB, file-rss:100kB, shmem-rss:0kB, UID:1000 pgtables:120kB "
      "oom_score_adj:500",
      "Nov 22 01:02:05 web01 kernel: eth0: link up",
  });

  const std::vector<OomReport> reports = parseOomReports(log);

  ASSERT_EQ(reports.size(), 1u);
  const OomReport& r = reports[0];
  EXPECT_TRUE(r.complete);
  EXPECT_TRUE(r.memcg);
  EXPECT_EQ(r.first_line, 2u);
  EXPECT_EQ(r.last_line, 2u);
  EXPECT_EQ(r.timestamp, "Nov 22 01:02:04");
  EXPECT_EQ(r.trigger.comm, "");
  EXPECT_TRUE(r.trigger.gfp_mask.empty());
  EXPECT_TRUE(r.tasks.empty());
  ASSERT_TRUE(r.victim);
  EXPECT_EQ(r.victim->comm, "foo bar");
  EXPECT_EQ(r.victim->uid, 1000u);
  EXPECT_EQ(r.victim->oom_score_adj, 500);
}

TEST(OomReportStreamTest, RateLimitedOldKillKeepsItsDecisionScore) {
  const std::string log = rawLog({
      "Out of memory: Kill process 99 (x) score 700 or sacrifice child",
      "Killed process 99 (x) total-vm:10kB, anon-rss:5kB, file-rss:0kB",
  });

  const std::vector<OomReport> reports = parseOomReports(log);

  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].victim->score, 700);
  EXPECT_EQ(reports[0].first_line, 1u);
  EXPECT_TRUE(reports[0].complete);
}

TEST(OomReportStreamTest, ReportThatGoesQuietIsClosedAndLaterLinesDoNotJoinIt) {
  std::vector<std::string> lines(kReport.begin(), kReport.begin() + 10);
  for (int i = 0; i < 5000; ++i)
    lines.push_back("eth0: link up");
  lines.push_back(kReport.back());

  const std::vector<OomReport> reports = parseOomReports(rawLog(lines));

  ASSERT_EQ(reports.size(), 2u);
  EXPECT_FALSE(reports[0].complete);
  EXPECT_EQ(reports[0].last_line, 10u);
  EXPECT_TRUE(reports[1].complete);
  EXPECT_TRUE(reports[1].tasks.empty());
}

TEST(OomReportStreamTest, InputWithoutReportsGivesNone) {
  const std::vector<std::string> inputs = {
      "",
      "\n\n\n",
      "Nov 22 01:02:03 web01 app[1]: Killed process 1 (x) total-vm:1kB",
      "[  390]     0   390    39012 name\noom-kill:constraint=CONSTRAINT_NONE\n",
      "Out of memory and no killable processes...\nKernel panic - not syncing: x\n",
      "invoked oom-killer\nKilled process\nKill process 1 (a) sharing same memory\n",
  };
  for (const std::string& input : inputs) {
    SCOPED_TRACE(input);

    EXPECT_TRUE(parseOomReports(input).empty());
  }
}

TEST(OomReportStreamTest, WholeLogKeepsTheFirstOfTwoLateReaperLines) {
  std::vector<std::string> lines = reportWithReaperAfter(300);
  lines.push_back(
      "oom_reaper: reaped process 4242 (my prog), now anon-rss:7kB, file-rss:0kB, shmem-rss:0kB");

  const std::vector<OomReport> reports = parseOomReports(rawLog(lines));

  ASSERT_EQ(reports.size(), 1u);
  ASSERT_TRUE(reports[0].reaped);
  EXPECT_EQ(reports[0].reaped->anon_rss_kb, 0u);
}

TEST(OomReportStreamTest, KmsgDictionaryAndUserSpaceRecordsDoNotDisturbAReport) {
  std::vector<std::string> lines;
  for (size_t i = 0; i < kReport.size(); ++i) {
    lines.push_back("4," + std::to_string(i) + ",1000,-;" + kReport[i]);
    lines.push_back(" SUBSYSTEM=memory");
    lines.push_back("12," + std::to_string(i) + ",1001,-;[   4999]  0 4999 1 2 3 4 5 6 7 8 x");
  }
  lines.push_back("12,99,2000,-;Out of memory: Killed process 1 (x) total-vm:1kB");

  const std::vector<OomReport> reports = parseOomReports(rawLog(lines));

  ASSERT_EQ(reports.size(), 1u);
  expectBaseReport(reports[0]);
  EXPECT_EQ(reports[0].timestamp, "0.001000");
}

TEST(OomReportStreamTest, WindowsLineEndings) {
  const std::string log = renderLog(kReport, [](size_t) { return std::string("[ 1.5] "); });
  std::string crlf;
  for (const char c : log)
    crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);

  const std::vector<OomReport> reports = parseOomReports(crlf);

  ASSERT_EQ(reports.size(), 1u);
  expectBaseReport(reports[0]);
  EXPECT_EQ(reports[0].victim->oom_score_adj, 0);
}

}  // namespace
}  // namespace oomkit::core
