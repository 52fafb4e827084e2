#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "oomkit/core/procfs.h"
#include "oomkit/result.h"

namespace oomkit::core {
namespace {

// A real line from `cat /proc/self/stat` on 6.18 (fields 25..52 included).
constexpr std::string_view kCatStat =
    "2282 (cat) R 2280 2280 1169 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 17774 3133440 358 "
    "18446744073709551615 94512859529216 94512859549097 140722084068336 0 0 0 0 0 0 0 0 0 17 0 0 "
    "0 0 0 0 94512859565104 94512859566720 94513243508736 140722084071878 140722084071898 "
    "140722084071898 140722084073451 0\n";

// kCatStat with another comm.
std::string statWithComm(std::string_view comm) {
  return "2282 (" + std::string(comm) + ") R 2280 2280 1169 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 " +
         "1 0 17774 3133440 358 18446744073709551615 94512859529216 0\n";
}

TEST(ParseProcStatTest, ReadsTheFieldsOfARealLine) {
  const auto stat = parseProcStat(kCatStat);

  ASSERT_TRUE(stat) << stat.error().message;
  EXPECT_EQ(stat->pid, 2282);
  EXPECT_EQ(stat->comm, "cat");
  EXPECT_EQ(stat->state, 'R');
  EXPECT_EQ(stat->ppid, 2280);
  EXPECT_EQ(stat->flags, 4194304u);
  EXPECT_EQ(stat->num_threads, 1);
  EXPECT_EQ(stat->start_time_ticks, 17774u);
  EXPECT_EQ(stat->rss_pages, 358u);
}

TEST(ParseProcStatTest, ReadsKernelThreadFlagsAndZeroRss) {
  // `cat /proc/2/stat` on 6.18: kthreadd has PF_KTHREAD in flags and no mm.
  const std::string_view text =
      "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 24 0 0 18446744073709551615 0 0 "
      "0 0 0 0 0 2147483647 0 1 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

  const auto stat = parseProcStat(text);

  ASSERT_TRUE(stat) << stat.error().message;
  EXPECT_EQ(stat->pid, 2);
  EXPECT_EQ(stat->ppid, 0);
  EXPECT_EQ(stat->state, 'S');
  EXPECT_NE(stat->flags & kPfKthread, 0u);
  EXPECT_EQ(stat->start_time_ticks, 24u);
  EXPECT_EQ(stat->rss_pages, 0u);
}

TEST(ParseProcStatTest, CommMayHoldParenthesesSpacesAndNewlines) {
  struct Case {
    std::string name;
    std::string comm;
  };
  const std::vector<Case> cases = {
      {"closing then opening parenthesis", "a) b (c"},
      {"newline", "x\ny"},
      {"bytes that are not UTF-8", "\xff\xfe bad"},
      {"looks like the fields after comm", ") R 1 2 3"},
      {"empty", ""},
      {"only parentheses", "(()))("},
      {"spaces only", "   "},
      {"fake full field list", "x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 9 0 99 0 99"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto stat = parseProcStat(statWithComm(c.comm));

    ASSERT_TRUE(stat) << stat.error().message;
    EXPECT_EQ(stat->comm, c.comm);
    EXPECT_EQ(stat->state, 'R');
    EXPECT_EQ(stat->ppid, 2280);
    EXPECT_EQ(stat->num_threads, 1);
    EXPECT_EQ(stat->start_time_ticks, 17774u);
    EXPECT_EQ(stat->rss_pages, 358u);
  }
}

TEST(ParseProcStatTest, AcceptsExactly24FieldsWithoutNewline) {
  const std::string_view text = "7 (sh) S 1 7 7 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 3 0 500 0 12";

  const auto stat = parseProcStat(text);

  ASSERT_TRUE(stat) << stat.error().message;
  EXPECT_EQ(stat->num_threads, 3);
  EXPECT_EQ(stat->start_time_ticks, 500u);
  EXPECT_EQ(stat->rss_pages, 12u);
}

TEST(ParseProcStatTest, RejectsFewerThan24Fields) {
  struct Case {
    std::string name;
    std::string_view input;
  };
  const std::vector<Case> cases = {
      {"nothing after comm", "1 (init)"},
      {"state only", "1 (init) S\n"},
      {"23 fields", "7 (sh) S 1 7 7 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 3 0 500 0\n"},
      {"comm swallowed the fields", "7 (sh) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 3 0 500 0 12)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto stat = parseProcStat(c.input);

    ASSERT_FALSE(stat);
    EXPECT_EQ(stat.error().code, Errc::kParse);
  }
}

TEST(ParseProcStatTest, RejectsMalformedFields) {
  struct Case {
    std::string name;
    std::string input;
  };
  const std::string tail = " 0 0 0 0 0 0 0 0 20 0 1 0 17774 3133440 358\n";
  const std::vector<Case> cases = {
      {"empty", ""},
      {"no parentheses", "2282 cat R 2280 2280 1169 0 -1 4194304" + tail},
      {"no closing parenthesis", "2282 (cat R 2280 2280 1169 0 -1 4194304" + tail},
      {"no opening parenthesis", "2282 cat) R 2280 2280 1169 0 -1 4194304" + tail},
      {"closing before opening", "2282 )cat( R 2280 2280 1169 0 -1 4194304" + tail},
      {"pid not a number", "abc (cat) R 2280 2280 1169 0 -1 4194304" + tail},
      {"pid missing", "(cat) R 2280 2280 1169 0 -1 4194304" + tail},
      {"pid negative", "-5 (cat) R 2280 2280 1169 0 -1 4194304" + tail},
      {"state two letters", "2282 (cat) RS 2280 2280 1169 0 -1 4194304" + tail},
      {"ppid negative", "2282 (cat) R -2 2280 1169 0 -1 4194304" + tail},
      {"ppid above int32", "2282 (cat) R 2147483648 2280 1169 0 -1 4194304" + tail},
      {"flags not a number", "2282 (cat) R 2280 2280 1169 0 -1 0x400000" + tail},
      {"num_threads negative",
       "2282 (cat) R 2280 2280 1169 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 -1 0 17774 3133440 358\n"},
      {"starttime not a number",
       "2282 (cat) R 2280 2280 1169 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 abc 3133440 358\n"},
      {"rss overflows",
       "2282 (cat) R 2280 2280 1169 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 1 1 "
       "18446744073709551616\n"},
      {"binary garbage", std::string("\x00\xff(\x01)\x02 \x03", 8)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    const auto stat = parseProcStat(c.input);

    ASSERT_FALSE(stat);
    EXPECT_EQ(stat.error().code, Errc::kParse);
  }
}

TEST(ParseProcStatTest, ErrorNamesTheFieldAndItsValue) {
  const std::string_view text =
      "2282 (cat) R 2280 2280 1169 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 abc 3133440 358\n";

  const auto stat = parseProcStat(text);

  ASSERT_FALSE(stat);
  EXPECT_EQ(stat.error().message, "stat: field 22 (starttime) is not a number: 'abc'");
}

TEST(ParseProcStatTest, RejectsEveryPrefixThatEndsBeforeRss) {
  // Field 24 (rss, "358") starts after the 23rd space that follows ')'.
  const size_t rss_start = kCatStat.find(" 358 ") + 1;

  for (size_t len = 0; len < kCatStat.size(); ++len) {
    SCOPED_TRACE(len);

    const auto stat = parseProcStat(kCatStat.substr(0, len));

    EXPECT_EQ(stat.has_value(), len > rss_start);
  }
}

}  // namespace
}  // namespace oomkit::core
