#include "oomkit/core/log_line.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace oomkit::core {
namespace {

struct Case {
  std::string name;
  std::string_view line;
  std::string_view text;
  std::string_view timestamp;
  std::string_view host;
  bool from_kernel = true;
};

void expectCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const LogLine log = parseLogLine(c.line);

    EXPECT_EQ(log.text, c.text);
    EXPECT_EQ(log.timestamp, c.timestamp);
    EXPECT_EQ(log.host, c.host);
    EXPECT_EQ(log.from_kernel, c.from_kernel);
  }
}

TEST(LogLineTest, ReadsDevKmsgRecords) {
  expectCases({
      {"record", "4,348,321568863,-;memcg_exp invoked oom-killer: x",
       "memcg_exp invoked oom-killer: x", "321568863", "", true},
      {"text starting with a blank", "4,351,321569364,-; <TASK>", " <TASK>", "321569364", "", true},
      {"extra fields (CONFIG_PRINTK_CALLER)", "6,422,321572141,-,caller=T8316;Tasks state",
       "Tasks state", "321572141", "", true},
      {"continuation flag", "4,9,12,c;more", "more", "12", "", true},
      {"written by user space (facility 3)", "30,1200,5000000,-;systemd[1]: Started x",
       "systemd[1]: Started x", "5000000", "", false},
      {"dictionary line", " SUBSYSTEM=memory", " SUBSYSTEM=memory", "", "", false},
      {"dictionary line with digits", " DEVICE=+memory:memory0", " DEVICE=+memory:memory0", "", "",
       false},
      {"not a record: a flag of two characters", "4,1,2,--;x", "4,1,2,--;x", "", "", true},
      {"not a record: letters", "a,1,2,-;x", "a,1,2,-;x", "", "", true},
  });
}

TEST(LogLineTest, ReadsDmesgPrefixes) {
  expectCases({
      {"seconds", "[  412.766678] score_victim invoked oom-killer:",
       "score_victim invoked oom-killer:", "412.766678", "", true},
      {"seconds and a caller id", "[  412.766678] [  T13301] text", "text", "412.766678", "", true},
      {"caller id on a CPU", "[    0.000000] [    C0] text", "text", "0.000000", "", true},
      {"dmesg -T in English", "[Mon Nov 22 01:02:03 2026] text", "text", "Mon Nov 22 01:02:03 2026",
       "", true},
      {"dmesg -T in German", "[Di Aug 12 03:54:03 2025] php-fpm invoked oom-killer:",
       "php-fpm invoked oom-killer:", "Di Aug 12 03:54:03 2025", "", true},
      {"dmesg -T in French", "[mer. nov. 20 10:11:12 2024] text", "text",
       "mer. nov. 20 10:11:12 2024", "", true},
      {"dmesg -x kern", "kern  :warn  : [  412.766678] text", "text", "412.766678", "", true},
      {"dmesg -x user", "user  :notice: [  412.766678] text", "text", "412.766678", "", false},
      {"/proc/kmsg priority", "<4>[  412.766678] text", "text", "412.766678", "", true},
      {"priority of user space", "<30>[  412.766678] text", "text", "412.766678", "", false},
      {"row of the task table is no timestamp", "[  390]     0   390    39012 name",
       "[  390]     0   390    39012 name", "", "", true},
      {"header of the task table", "[  pid  ]   uid  tgid name", "[  pid  ]   uid  tgid name", "",
       "", true},
      {"row after a timestamp", "[  412.767104] [  13299]     0 13299 x", "[  13299]     0 13299 x",
       "412.767104", "", true},
      {"old call trace", " [<ffffffff816861ac>] dump_stack+0x19/0x1b",
       " [<ffffffff816861ac>] dump_stack+0x19/0x1b", "", "", true},
      {"a program's tag after seconds stays kernel text", "[ 1.000000] x[1]: invoked",
       "x[1]: invoked", "1.000000", "", true},
  });
}

TEST(LogLineTest, ReadsSyslogAndJournalPrefixes) {
  expectCases({
      {"syslog with host", "Nov 22 01:02:03 web01 kernel: text", "text", "Nov 22 01:02:03", "web01",
       true},
      {"syslog without host", "Nov 22 01:02:03 kernel: text", "text", "Nov 22 01:02:03", "", true},
      {"syslog with the kernel's seconds", "Nov 22 01:02:03 web01 kernel: [ 1234.567890] text",
       "text", "Nov 22 01:02:03", "web01", true},
      {"single-digit day", "Nov  2 01:02:03 web01 kernel: text", "text", "Nov  2 01:02:03", "web01",
       true},
      {"localised month", "Mär  3 01:02:03 web01 kernel: text", "text", "Mär  3 01:02:03", "web01",
       true},
      {"journalctl short-precise", "Nov 22 01:02:03.123456 web01 kernel: text", "text",
       "Nov 22 01:02:03.123456", "web01", true},
      {"journalctl short-iso", "2026-11-22T01:02:03+0100 web01 kernel: text", "text",
       "2026-11-22T01:02:03+0100", "web01", true},
      {"RFC 3339 (rsyslog)", "2026-11-22T01:02:03.123456+01:00 web01 kernel: text", "text",
       "2026-11-22T01:02:03.123456+01:00", "web01", true},
      {"UTC", "2026-11-22T01:02:03Z web01 kernel: text", "text", "2026-11-22T01:02:03Z", "web01",
       true},
      {"dmesg --time-format=iso", "2026-11-22T01:02:03,123456+01:00 text", "text",
       "2026-11-22T01:02:03,123456+01:00", "", true},
      {"journalctl short-monotonic", "[  412.766678] web01 kernel: text", "text", "412.766678",
       "web01", true},
      {"another program", "Nov 22 01:02:03 web01 sshd[123]: Accepted", "Accepted",
       "Nov 22 01:02:03", "web01", false},
      {"another program, no host", "Nov 22 01:02:03 CRON[9]: x", "x", "Nov 22 01:02:03", "", false},
      {"no tag we know", "Nov 22 01:02:03 web01 text here", "web01 text here", "Nov 22 01:02:03",
       "", true},
      {"carriage return", "Nov 22 01:02:03 web01 kernel: text\r", "text", "Nov 22 01:02:03",
       "web01", true},
  });
}

TEST(LogLineTest, StripsMailQuotes) {
  expectCases({
      {"one level", "> Nov 22 01:02:03 web01 kernel: text", "text", "Nov 22 01:02:03", "web01",
       true},
      {"two levels with blanks", "> > [  412.766678] text", "text", "412.766678", "", true},
      {"two levels without blank", ">> 4,348,321568863,-;text", "text", "321568863", "", true},
      {"a quoted continuation line keeps its indent", ">  dump_stack+0x57/0x80",
       " dump_stack+0x57/0x80", "", "", true},
  });
}

TEST(LogLineTest, LeavesTextWithoutPrefixAlone) {
  expectCases({
      {"empty", "", "", "", "", true},
      {"raw kernel text", "Call Trace:", "Call Trace:", "", "", true},
      {"CPU line", "CPU: 0 PID: 1 Comm: x", "CPU: 0 PID: 1 Comm: x", "", "", true},
      {"unclosed bracket", "[  412.766678 text", "[  412.766678 text", "", "", true},
      {"bracket without a blank after it", "[12.5]text", "[12.5]text", "", "", true},
      {"date without time", "Nov 22 web01 kernel: x", "Nov 22 web01 kernel: x", "", "", true},
  });
}

TEST(LogLineTest, SplitsRsyslogEscapedNewlines) {
  struct SplitCase {
    std::string name;
    std::string_view text;
    std::vector<std::string> pieces;
  };
  const std::vector<SplitCase> cases = {
      {"none", "a b", {"a b"}},
      {"two", "active_anon:1#012 active_file:2", {"active_anon:1", " active_file:2"}},
      {"trailing", "a#012", {"a", ""}},
      {"only the escape", "#012", {"", ""}},
      {"other escapes stay", "a#011b", {"a#011b"}},
  };
  for (const SplitCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> pieces;

    forEachRsyslogLine(c.text, [&](std::string_view piece) { pieces.emplace_back(piece); });

    EXPECT_EQ(pieces, c.pieces);
  }
}

}  // namespace
}  // namespace oomkit::core

namespace oomkit::core {
namespace {

TEST(TimestampTextTest, KmsgMicrosecondsReadAsDmesgSeconds) {
  EXPECT_EQ(timestampText(parseLogLine("4,348,321568863,-;memcg_exp invoked oom-killer")),
            "321.568863");
  EXPECT_EQ(timestampText(parseLogLine("6,1,12,-;early")), "0.000012");
  EXPECT_EQ(timestampText(parseLogLine("[  412.766678] score_victim invoked oom-killer")),
            "412.766678");
}

}  // namespace
}  // namespace oomkit::core
