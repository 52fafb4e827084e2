#include "oomkit/core/text.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace oomkit::core {
namespace {

using namespace std::string_view_literals;  // "\0"sv keeps embedded NUL bytes

TEST(ForEachLineTest, VisitsEachLineAndTheLastOneWithoutNewline) {
  std::vector<std::string> lines;

  forEachLine("a\n\nb c\nlast", [&](std::string_view line) { lines.emplace_back(line); });

  EXPECT_EQ(lines, (std::vector<std::string>{"a", "", "b c", "last"}));
}

TEST(TrimTest, StripsSpacesTabsAndNewlinesFromBothEnds) {
  struct Case {
    std::string name;
    std::string_view input;
    std::string_view expected;
  };
  const std::vector<Case> cases = {
      {"empty", "", ""},
      {"only blanks", " \t\n ", ""},
      {"nothing to strip", "a b", "a b"},
      {"both ends", "\t 12 kB\n", "12 kB"},
      {"inner blanks kept", "  a \t b  ", "a \t b"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    EXPECT_EQ(trim(c.input), c.expected);
  }
}

TEST(ParseU64Test, AcceptsWholeDecimalNumbers) {
  struct Case {
    std::string name;
    std::string_view input;
    uint64_t expected;
  };
  const std::vector<Case> cases = {
      {"zero", "0", 0},
      {"small", "42", 42},
      {"leading zeros", "007", 7},
      {"max", "18446744073709551615", UINT64_MAX},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    EXPECT_EQ(parseU64(c.input), c.expected);
  }
}

TEST(ParseU64Test, RejectsEmptySignsGarbageAndOverflow) {
  struct Case {
    std::string name;
    std::string_view input;
  };
  const std::vector<Case> cases = {
      {"empty", ""},
      {"minus", "-1"},
      {"minus zero", "-0"},
      {"plus", "+1"},
      {"leading blank", " 1"},
      {"trailing blank", "1 "},
      {"trailing newline", "1\n"},
      {"trailing letter", "12a"},
      {"hex prefix", "0x10"},
      {"decimal point", "1.5"},
      {"overflow by one", "18446744073709551616"},
      {"huge", "99999999999999999999999999999999"},
      {"embedded NUL", "1\0"sv},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    EXPECT_EQ(parseU64(c.input), std::nullopt);
  }
}

TEST(ParseI64Test, AcceptsNegativeAndPositiveNumbers) {
  struct Case {
    std::string name;
    std::string_view input;
    int64_t expected;
  };
  const std::vector<Case> cases = {
      {"zero", "0", 0},
      {"negative", "-1000", -1000},
      {"positive", "1000", 1000},
      {"max", "9223372036854775807", INT64_MAX},
      {"min", "-9223372036854775808", INT64_MIN},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    EXPECT_EQ(parseI64(c.input), c.expected);
  }
}

TEST(ParseI64Test, RejectsEmptyPlusGarbageAndOverflow) {
  struct Case {
    std::string name;
    std::string_view input;
  };
  const std::vector<Case> cases = {
      {"empty", ""},
      {"lone minus", "-"},
      {"double minus", "--1"},
      {"plus", "+1"},
      {"trailing blank", "-1 "},
      {"trailing letter", "5x"},
      {"overflow", "9223372036854775808"},
      {"underflow", "-9223372036854775809"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    EXPECT_EQ(parseI64(c.input), std::nullopt);
  }
}

TEST(ParseHex64Test, AcceptsHexDigitsInEitherCase) {
  struct Case {
    std::string name;
    std::string_view input;
    uint64_t expected;
  };
  const std::vector<Case> cases = {
      {"CapEff of root", "000001fffeffffff", 0x000001fffeffffffULL},
      {"all zero", "0000000000000000", 0},
      {"upper case", "FF", 0xff},
      {"max", "ffffffffffffffff", UINT64_MAX},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    EXPECT_EQ(parseHex64(c.input), c.expected);
  }
}

TEST(ParseHex64Test, RejectsPrefixSignsGarbageAndOverflow) {
  struct Case {
    std::string name;
    std::string_view input;
  };
  const std::vector<Case> cases = {
      {"empty", ""},
      {"0x prefix", "0x1f"},
      {"minus", "-1"},
      {"plus", "+1"},
      {"not hex", "fg"},
      {"trailing blank", "ff "},
      {"17 digits", "10000000000000000"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    EXPECT_EQ(parseHex64(c.input), std::nullopt);
  }
}

TEST(StripTrailingNewlineTest, RemovesExactlyOneNewline) {
  EXPECT_EQ(stripTrailingNewline("42\n"), "42");
  EXPECT_EQ(stripTrailingNewline("42"), "42");
  EXPECT_EQ(stripTrailingNewline("42\n\n"), "42\n");
  EXPECT_EQ(stripTrailingNewline(" 42 \n"), " 42 ");
  EXPECT_EQ(stripTrailingNewline(""), "");
}

TEST(ParseKbTest, AcceptsPaddedNumberWithKbUnit) {
  struct Case {
    std::string name;
    std::string_view input;
    uint64_t expected;
  };
  const std::vector<Case> cases = {
      {"status padding", "\t    1568 kB", 1568},
      {"meminfo padding", "       24684084 kB", 24684084},
      {"zero", "0 kB", 0},
      {"trailing newline", " 7 kB\n", 7},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    EXPECT_EQ(parseKb(c.input), c.expected);
  }
}

TEST(ParseKbTest, RejectsMissingOrWrongUnitAndGarbage) {
  struct Case {
    std::string name;
    std::string_view input;
  };
  const std::vector<Case> cases = {
      {"empty", ""},
      {"no unit", "1568"},
      {"unit only", "kB"},
      {"wrong unit", "1568 KB"},
      {"unit glued", "1568kB"},
      {"extra token", "1568 kB extra"},
      {"negative", "-1 kB"},
      {"not a number", "abc kB"},
      {"overflow", "18446744073709551616 kB"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    EXPECT_EQ(parseKb(c.input), std::nullopt);
  }
}

TEST(NextTokenTest, SplitsOffTokensSkippingBlanks) {
  std::string_view s = "  R 2280\t\t2280\nx  ";

  const std::string_view first = nextToken(s);
  const std::string_view second = nextToken(s);
  const std::string_view third = nextToken(s);
  const std::string_view fourth = nextToken(s);
  const std::string_view fifth = nextToken(s);

  EXPECT_EQ(first, "R");
  EXPECT_EQ(second, "2280");
  EXPECT_EQ(third, "2280");
  EXPECT_EQ(fourth, "x");
  EXPECT_EQ(fifth, "");
  EXPECT_EQ(trim(s), "");
}

TEST(NextTokenTest, ReturnsEmptyForEmptyOrBlankInput) {
  std::string_view empty = "";
  std::string_view blank = " \t\n";

  EXPECT_EQ(nextToken(empty), "");
  EXPECT_EQ(nextToken(blank), "");
}

TEST(EscapeBytesTest, PassesValidUtf8ThroughUnchanged) {
  struct Case {
    std::string name;
    std::string_view input;
  };
  const std::vector<Case> cases = {
      {"empty", ""},
      {"ascii", "cat (worker) 1"},
      {"two-byte e-acute", "caf\xc3\xa9"},
      {"three-byte CJK", "\xe6\x97\xa5\xe6\x9c\xac"},
      {"four-byte emoji", "\xf0\x9f\x98\x80"},
      {"lowest three-byte", "\xe0\xa0\x80"},       // U+0800
      {"last before surrogates", "\xed\x9f\xbf"},  // U+D7FF
      {"first after surrogates", "\xee\x80\x80"},  // U+E000
      {"lowest four-byte", "\xf0\x90\x80\x80"},    // U+10000
      {"highest code point", "\xf4\x8f\xbf\xbf"},  // U+10FFFF
      {"tilde and space", "~ "},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    EXPECT_EQ(escapeBytes(c.input), c.input);
  }
}

TEST(EscapeBytesTest, EscapesControlBytesDelAndBackslash) {
  struct Case {
    std::string name;
    std::string_view input;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"newline", "a\nb", "a\\x0ab"},
      {"tab", "\t", "\\x09"},
      {"NUL", "a\0b"sv, "a\\x00b"},
      {"escape", "\x1b[0m", "\\x1b[0m"},
      {"unit separator", "\x1f", "\\x1f"},
      {"DEL", "\x7f", "\\x7f"},
      {"backslash", "\\", "\\x5c"},
      {"escaped-looking text stays unambiguous", "\\x41", "\\x5cx41"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    EXPECT_EQ(escapeBytes(c.input), c.expected);
  }
}

TEST(EscapeBytesTest, EscapesEachByteOfAnInvalidSequence) {
  struct Case {
    std::string name;
    std::string_view input;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"lone 0xff", "\xff", "\\xff"},
      {"stat test name", "\xff\xfe bad", "\\xff\\xfe bad"},
      {"lone continuation", "\x80", "\\x80"},
      {"overlong slash C0", "\xc0\xaf", "\\xc0\\xaf"},
      {"overlong C1", "\xc1\xbf", "\\xc1\\xbf"},
      {"overlong three-byte", "\xe0\x80\xaf", "\\xe0\\x80\\xaf"},
      {"overlong four-byte", "\xf0\x80\x80\xaf", "\\xf0\\x80\\x80\\xaf"},
      {"surrogate D800", "\xed\xa0\x80", "\\xed\\xa0\\x80"},
      {"surrogate DFFF", "\xed\xbf\xbf", "\\xed\\xbf\\xbf"},
      {"above U+10FFFF", "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},
      {"F5 lead", "\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80"},
      {"truncated two-byte at end", "ab\xc3", "ab\\xc3"},
      {"truncated three-byte at end", "\xe6\x97", "\\xe6\\x97"},
      {"truncated four-byte at end", "x\xf0\x9f\x98", "x\\xf0\\x9f\\x98"},
      {"lead then ASCII",
       "\xe6"
       "a",
       "\\xe6a"},
      {"valid after invalid", "\xff\xc3\xa9", "\\xff\xc3\xa9"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    EXPECT_EQ(escapeBytes(c.input), c.expected);
  }
}

TEST(QuoteBytesTest, QuotesEscapedBytes) {
  EXPECT_EQ(quoteBytes("abc"), "'abc'");
  EXPECT_EQ(quoteBytes(""), "''");
  EXPECT_EQ(quoteBytes("a\nb\xff"), "'a\\x0ab\\xff'");
}

TEST(QuoteBytesTest, CutsLongInputAt64Bytes) {
  const std::string input(100, 'x');

  const std::string quoted = quoteBytes(input);

  EXPECT_EQ(quoted, "'" + std::string(64, 'x') + "'...");
}

TEST(UnescapeKernelStringTest, DecodesOctalAndLetterEscapes) {
  struct Case {
    std::string name;
    std::string_view input;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"plain", "cat", "cat"},
      {"newline", "x\\ny", "x\ny"},
      {"backslash", "a\\\\b", "a\\b"},
      {"escaped backslash before n", "\\\\n", "\\n"},
      {"space tab cr ff vt", "\\t\\r\\f\\v", "\t\r\f\v"},
      {"bell escape quote", "\\a\\e\\\"", "\a\x1b\""},
      {"octal space", "/mnt/my\\040dir", "/mnt/my dir"},
      {"octal tab newline backslash", "\\011\\012\\134", "\t\n\\"},
      {"octal high byte", "\\377", "\xff"},
      {"octal NUL", "a\\000b", std::string("a\0b", 3)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    EXPECT_EQ(unescapeKernelString(c.input), c.expected);
  }
}

TEST(UnescapeKernelStringTest, KeepsBackslashesThatStartNoEscape) {
  struct Case {
    std::string name;
    std::string_view input;
  };
  const std::vector<Case> cases = {
      {"trailing backslash", "abc\\"}, {"unknown letter", "\\q"},     {"short octal", "\\04"},
      {"octal at end", "x\\1"},        {"octal above 0377", "\\400"}, {"non-octal digit", "\\089"},
      {"raw bytes", "\xff\xfe"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);

    EXPECT_EQ(unescapeKernelString(c.input), c.input);
  }
}

}  // namespace
}  // namespace oomkit::core

namespace oomkit::core {
namespace {

TEST(FindKeyedValueTest, ReadsTheNumberAfterAnExactKey) {
  const std::string_view oom_control = "oom_kill_disable 0\nunder_oom 1\noom_kill 7\n";
  const std::string_view vmstat = "nr_free_pages 100\noom_kill_x 5\noom_kill 3";

  EXPECT_EQ(findKeyedValue(oom_control, "oom_kill"), 7u);
  EXPECT_EQ(findKeyedValue(oom_control, "under_oom"), 1u);
  EXPECT_EQ(findKeyedValue(vmstat, "oom_kill"), 3u);  // not the "oom_kill_x" prefix
  EXPECT_EQ(findKeyedValue(vmstat, "missing"), std::nullopt);
  EXPECT_EQ(findKeyedValue("oom_kill many\n", "oom_kill"), std::nullopt);
  EXPECT_EQ(findKeyedValue("", "oom_kill"), std::nullopt);
}

}  // namespace
}  // namespace oomkit::core

namespace oomkit::core {
namespace {

TEST(EscapeBytesTest, KeepModeLeavesLogEscapesAlone) {
  EXPECT_EQ(escapeBytes("a\\xffb", BackslashEscape::kKeep), "a\\xffb");
  EXPECT_EQ(escapeBytes("a\\xffb"), "a\\x5cxffb");
  EXPECT_EQ(escapeBytes("\xff\n", BackslashEscape::kKeep), "\\xff\\x0a");
}

TEST(UnescapeBytesTest, InvertsEscapeBytesForAnyBytes) {
  const std::string samples[] = {"plain",        "a b (c) d", std::string("nul\0in", 6),
                                 "\xff\xfe bad", "new\nline", "back\\slash \\x41",
                                 "caf\xc3\xa9",  ""};
  for (const auto& bytes : samples) {
    EXPECT_EQ(unescapeBytes(escapeBytes(bytes)), bytes) << escapeBytes(bytes);
  }
  EXPECT_EQ(unescapeBytes("\\x4"), "\\x4");    // too short: kept as is
  EXPECT_EQ(unescapeBytes("\\xzz"), "\\xzz");  // not hex: kept as is
}

}  // namespace
}  // namespace oomkit::core
